/**
 * Redis glob patterns (the MATCH of SCAN): `*`, `?`, `[abc]`, `[^a-z]` and `\` escapes.
 */

/** Escapes a literal (a key prefix) so that a glob matches it exactly. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** The RegExp that matches exactly the strings Redis matches with this glob. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*') {
      source += '.*';
    } else if (char === '?') {
      source += '.';
    } else if (char === '\\' && i + 1 < glob.length) {
      i += 1;
      source += escapeRegExp(glob[i] as string);
    } else if (char === '[' && glob.indexOf(']', i + 2) !== -1) {
      const end = glob.indexOf(']', i + 2);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      // Inside a class only "-" keeps its meaning (ranges); everything else is literal.
      source += `[${negated ? '^' : ''}${body.replace(/[\\\]^[]/g, '\\$&')}]`;
      i = end;
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`, 's');
}
