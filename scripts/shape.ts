// How the code is cut, measured the same way before and after a restructuring: files and
// functions past a size a reader can hold at once, and import cycles between folders (which
// `import/no-cycle` cannot see, because it follows files, not the folders that show the
// architecture). Usage: `tsx scripts/shape.ts [--json] [root ...]` (default roots: src test).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const maxFileLines = 300;
const maxFunctionLines = 60;

interface FunctionSize {
  file: string;
  name: string;
  line: number;
  lines: number;
}

function sourceFiles(root: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(root)) {
    const path = join(root, entry);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

function functionName(node: ts.Node, source: ts.SourceFile): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)) return parent.name.getText(source);
  if (ts.isCallExpression(parent)) return `callback of ${parent.expression.getText(source).slice(0, 40)}`;
  return '(anonymous)';
}

function functionSizes(file: string, source: ts.SourceFile): FunctionSize[] {
  const sizes: FunctionSize[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      sizes.push({ file, name: functionName(node, source), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sizes;
}

function importedFiles(file: string, source: ts.SourceFile): string[] {
  const targets: string[] = [];
  const consider = (specifier: ts.Expression | undefined, typeOnly: boolean): void => {
    if (typeOnly || !specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    targets.push(resolve(dirname(file), specifier.text.replace(/\.js$/, '.ts')));
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement))
      consider(statement.moduleSpecifier, statement.importClause?.isTypeOnly ?? false);
    if (ts.isExportDeclaration(statement)) consider(statement.moduleSpecifier, statement.isTypeOnly);
  }
  return targets;
}

// A folder's node is its path below the root (src/ledger, src/evidence/bundle); a cycle is a
// strongly connected group of two or more folders in the graph of runtime imports.
function folderCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (node: string): void => {
    order.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!order.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, order.get(next)!));
    }
    if (low.get(node) === order.get(node)) {
      const group: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const node of edges.keys()) if (!order.has(node)) connect(node);
  return groups;
}

export function measure(roots: string[]) {
  const cwd = process.cwd();
  const files = roots.flatMap((root) => sourceFiles(root));
  const longFiles: { file: string; lines: number }[] = [];
  const longFunctions: FunctionSize[] = [];
  const edges = new Map<string, Set<string>>();
  let widest = { file: '', line: 0, width: 0 };
  let linesOver120 = 0;
  for (const path of files) {
    const text = readFileSync(path, 'utf8');
    const file = relative(cwd, path);
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true);
    const lines = text.split('\n');
    const lineCount = text.endsWith('\n') ? lines.length - 1 : lines.length;
    if (lineCount > maxFileLines) longFiles.push({ file, lines: lineCount });
    lines.forEach((line, at) => {
      if (line.length > 120) linesOver120 += 1;
      if (line.length > widest.width) widest = { file, line: at + 1, width: line.length };
    });
    longFunctions.push(...functionSizes(file, source).filter((size) => size.lines > maxFunctionLines));
    const from = dirname(file);
    for (const target of importedFiles(path, source)) {
      const to = dirname(relative(cwd, target));
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  return {
    files: files.length,
    longFiles: longFiles.sort((a, b) => b.lines - a.lines),
    longFunctions: longFunctions.sort((a, b) => b.lines - a.lines),
    folderCycles: folderCycles(edges),
    mutualFolders: [...edges].flatMap(([from, targets]) =>
      [...targets].filter((to) => from < to && edges.get(to)?.has(from)).map((to) => `${from} <-> ${to}`),
    ),
    linesOver120,
    widest,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) report(process.argv.slice(2));

function report(args: string[]): void {
  const json = args.includes('--json');
  const roots = args.filter((arg) => arg !== '--json');
  const result = measure(roots.length > 0 ? roots : ['src', 'test']);
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    console.log(`files read: ${result.files}`);
    console.log(`files over ${maxFileLines} lines: ${result.longFiles.length}`);
    for (const entry of result.longFiles) console.log(`  ${entry.lines}  ${entry.file}`);
    console.log(`functions over ${maxFunctionLines} lines: ${result.longFunctions.length}`);
    for (const entry of result.longFunctions)
      console.log(`  ${entry.lines}  ${entry.file}:${entry.line} ${entry.name}`);
    console.log(`folder-level import cycles: ${result.folderCycles.length}`);
    for (const group of result.folderCycles) console.log(`  ${group.join(' <-> ')}`);
    console.log(`folder pairs importing each other: ${result.mutualFolders.length}`);
    for (const pair of result.mutualFolders) console.log(`  ${pair}`);
    console.log(
      `lines over 120 characters: ${result.linesOver120}; widest ${result.widest.width} at ${result.widest.file}:${result.widest.line}`,
    );
  }
}
