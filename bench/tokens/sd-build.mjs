// Build a DTCG token file to CSS custom properties with Style Dictionary (the peer).
// Usage: node sd-build.mjs TOKENS.json OUT_DIR, or node sd-build.mjs @FILES.txt OUT_DIR (one token
// file per line, merged in order).
import { readFileSync } from 'node:fs';
import StyleDictionary from 'style-dictionary';

const [source, buildPath] = process.argv.slice(2);
const sources = source.startsWith('@') ? readFileSync(source.slice(1), 'utf8').trim().split('\n') : [source];
const sd = new StyleDictionary({
  source: sources,
  usesDtcg: true,
  log: { verbosity: 'silent', warnings: 'disabled' },
  platforms: {
    css: {
      transformGroup: 'css',
      buildPath: buildPath.endsWith('/') ? buildPath : buildPath + '/',
      files: [{ destination: 'tokens.css', format: 'css/variables' }],
    },
  },
});
await sd.buildAllPlatforms();
