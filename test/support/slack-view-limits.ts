/**
 * Slack's documented limits on a modal view and the blocks in it
 * (https://api.slack.com/reference/surfaces/views, https://api.slack.com/reference/block-kit/blocks,
 * https://api.slack.com/reference/block-kit/block-elements#button): what Slack answers
 * `invalid_arguments` to. The local Slack server refuses a view that breaks one, as Slack would, and
 * tests check views against them directly.
 */

type Json = Record<string, unknown>;

const TEXT_TYPES = new Set(['plain_text', 'mrkdwn']);

function textProblems(where: string, value: unknown, max: number, only?: 'plain_text'): string[] {
  if (!value || typeof value !== 'object') return [`${where} must be a text object`];
  const text = value as Json;
  if (only ? text.type !== only : !TEXT_TYPES.has(String(text.type))) return [`${where} has type ${String(text.type)}`];
  if (typeof text.text !== 'string' || text.text.length < 1) return [`${where} must have at least 1 character`];
  if (text.text.length > max) return [`${where} must be at most ${max} characters, not ${text.text.length}`];
  return [];
}

function buttonProblems(where: string, element: Json): string[] {
  if (element.type !== 'button') return [`${where} is a ${String(element.type)}, not a button`];
  return [
    ...textProblems(`${where}.text`, element.text, 75, 'plain_text'),
    ...(typeof element.action_id === 'string' && element.action_id.length <= 255
      ? []
      : [`${where}.action_id must be a string of at most 255 characters`]),
    ...(element.value === undefined || (typeof element.value === 'string' && element.value.length <= 2000)
      ? []
      : [`${where}.value must be at most 2000 characters`]),
    ...(element.url === undefined || (typeof element.url === 'string' && element.url.length <= 3000)
      ? []
      : [`${where}.url must be at most 3000 characters`]),
  ];
}

function blockProblems(where: string, block: Json): string[] {
  const problems: string[] = [];
  if (block.block_id !== undefined && !(typeof block.block_id === 'string' && block.block_id.length <= 255))
    problems.push(`${where}.block_id must be at most 255 characters`);
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) problems.push(`${where} needs text or fields`);
      if (block.text !== undefined) problems.push(...textProblems(`${where}.text`, block.text, 3000));
      break;
    case 'header':
      problems.push(...textProblems(`${where}.text`, block.text, 150, 'plain_text'));
      break;
    case 'context': {
      const elements = Array.isArray(block.elements) ? (block.elements as Json[]) : [];
      if (elements.length < 1 || elements.length > 10) problems.push(`${where} must have 1 to 10 elements`);
      elements.forEach((element, i) => problems.push(...textProblems(`${where}.elements[${i}]`, element, 3000)));
      break;
    }
    case 'actions': {
      const elements = Array.isArray(block.elements) ? (block.elements as Json[]) : [];
      if (elements.length < 1 || elements.length > 25) problems.push(`${where} must have 1 to 25 elements`);
      elements.forEach((element, i) => problems.push(...buttonProblems(`${where}.elements[${i}]`, element)));
      const ids = elements.map((element) => element.action_id);
      if (new Set(ids).size !== ids.length) problems.push(`${where} repeats an action_id`);
      break;
    }
    case 'divider':
      break;
    default:
      problems.push(`${where} has an unknown type ${String(block.type)}`);
  }
  return problems;
}

/** Every way `view` breaks Slack's limits for a modal; empty when Slack would take it. */
export function viewProblems(view: unknown): string[] {
  if (!view || typeof view !== 'object') return ['view must be an object'];
  const v = view as Json;
  const problems: string[] = [];
  if (v.type !== 'modal') problems.push(`view.type must be modal, not ${String(v.type)}`);
  problems.push(...textProblems('view.title', v.title, 24, 'plain_text'));
  for (const name of ['close', 'submit'])
    if (v[name] !== undefined) problems.push(...textProblems(`view.${name}`, v[name], 24, 'plain_text'));
  for (const [name, max] of [
    ['private_metadata', 3000],
    ['callback_id', 255],
    ['external_id', 255],
  ] as const)
    if (v[name] !== undefined && !(typeof v[name] === 'string' && v[name].length <= max))
      problems.push(`view.${name} must be a string of at most ${max} characters`);
  const blocks = Array.isArray(v.blocks) ? (v.blocks as Json[]) : [];
  if (!Array.isArray(v.blocks)) problems.push('view.blocks must be an array');
  if (blocks.length > 100) problems.push(`view.blocks must hold at most 100 blocks, not ${blocks.length}`);
  blocks.forEach((block, i) => problems.push(...blockProblems(`view.blocks[${i}]`, block)));
  const blockIds = blocks.map((block) => block.block_id).filter((id) => id !== undefined);
  if (new Set(blockIds).size !== blockIds.length) problems.push('view.blocks repeat a block_id');
  return problems;
}
