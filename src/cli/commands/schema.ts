import type { Command } from 'commander';
import { requestJsonSchema } from '../../model/request.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of an operation request, for callers that are not TypeScript')
    .action(() => {
      console.log(JSON.stringify(requestJsonSchema(), null, 2));
    });
}
