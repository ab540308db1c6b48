// Builds dist/careers-chat.js: the widget and socket.io-client in one file that a
// page loads with one <script> tag. `npm run build` (make does it); `--watch` to
// rebuild on every change while working on the widget.
import { context } from "esbuild";

const watch = process.argv.includes("--watch");
const ctx = await context({
  entryPoints: ["src/index.js"],
  outfile: "dist/careers-chat.js",
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2019"],
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  loader: { ".css": "text" },
  legalComments: "eof",
  logLevel: "info",
});
if (watch) {
  await ctx.watch();
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
