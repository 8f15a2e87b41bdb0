import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Node } from '@vscode/tree-sitter-wasm';

const require = createRequire(import.meta.url);
const treeSitter = require('@vscode/tree-sitter-wasm') as typeof import('@vscode/tree-sitter-wasm');
const wasmFolder = dirname(require.resolve('@vscode/tree-sitter-wasm'));

export type Grammar = 'powershell' | 'c-sharp' | 'bash';

/**
 * Real parsers for the languages of scripts this machine cannot run
 * (PowerShell, and the C# it compiles), from the tree-sitter grammars VS
 * Code ships as WebAssembly: the syntax tree of `source`, whose
 * `hasError` says whether anything failed to parse.
 */
export async function parse(grammar: Grammar, source: string): Promise<Node> {
  await treeSitter.Parser.init();
  const parser = new treeSitter.Parser();
  parser.setLanguage(await treeSitter.Language.load(join(wasmFolder, `tree-sitter-${grammar}.wasm`)));
  const tree = parser.parse(source);
  if (!tree) throw new Error(`the ${grammar} parser gave no tree`);
  return tree.rootNode;
}

/** Where a tree failed to parse (an error, or something missing), as text for a failing assertion: empty when it parsed. */
export function parseErrors(root: Node): string[] {
  const found: string[] = [];
  const visit = (node: Node) => {
    if (node.type === 'ERROR' || node.isMissing) found.push(`${node.startPosition.row + 1}:${node.startPosition.column + 1} ${node.isMissing ? `missing ${node.type}` : node.text.slice(0, 80)}`);
    for (const child of node.children) if (child) visit(child);
  };
  visit(root);
  return found;
}
