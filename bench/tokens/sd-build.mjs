// Build a DTCG token file to CSS custom properties with Style Dictionary (the peer).
// Usage: node sd-build.mjs TOKENS.json OUT_DIR
import StyleDictionary from 'style-dictionary';

const [source, buildPath] = process.argv.slice(2);
const sd = new StyleDictionary({
  source: [source],
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
