// Builds the dashboard's embedded assets into ../assets/build/:
//   app.js    the script (htmx + src/*.js), bundled and minified by esbuild
//   app.css   the styles, minified by esbuild
//   repo.html the project page fragment: README.md's "Repository outline"
//             section, TASKS.md and docs/roadmap.md, rendered at build time with marked
// Run by `make web` (npm run build). Nothing here is committed.
import { build } from 'esbuild';
import { marked } from 'marked';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(web, '..');
const out = join(web, 'assets', 'build');
await mkdir(out, { recursive: true });

await build({
  entryPoints: { app: join(web, 'src', 'main.js') },
  bundle: true, minify: true, format: 'iife', target: ['es2020'],
  outdir: out, legalComments: 'none', logLevel: 'warning',
});
await build({
  entryPoints: { app: join(web, 'src', 'app.css') },
  bundle: true, minify: true, outdir: out, logLevel: 'warning',
});

await writeFile(join(out, 'repo.html'), await repoFragment());
console.log('web: built app.js, app.css, repo.html into', out);

// repoFragment renders the outline and the task list. Input is the
// repository's own markdown (trusted); raw HTML in it is dropped anyway.
async function repoFragment() {
  const readme = await readFile(join(root, 'README.md'), 'utf8').catch(() => '');
  const tasks = await readFile(join(root, 'TASKS.md'), 'utf8').catch(() => '');
  const roadmap = await readFile(join(root, 'docs', 'roadmap.md'), 'utf8').catch(() => '');
  const outline = section(readme, 'Repository outline');
  const renderer = new marked.Renderer();
  renderer.html = () => '';
  const md = (s) => marked.parse(s, { renderer, gfm: true });

  const states = { done: 0, partial: 0, todo: 0 };
  for (const m of tasks.matchAll(/^\|[^|\n]+\|\s*(done|partial|todo)\s*\|/gim)) states[m[1].toLowerCase()]++;
  const total = states.done + states.partial + states.todo;
  const score = total ? Math.round(((states.done + states.partial / 2) / total) * 100) : 0;
  let html = '<h2>MVP progress</h2>';
  if (total) {
    html += `<p><strong>${states.done}</strong> of ${total} features done, ${states.partial} partly done, ${states.todo} to do.</p>`;
    html += `<progress class="progress" max="100" value="${score}" aria-label="MVP progress">${score}%</progress>`;
  }
  html += md(tasks.replace(/^# .*\n/, ''))
    .replace(/<td>(done|partial|todo)<\/td>/gi, (_, s) => `<td><span class="state-${s.toLowerCase()}">${s}</span></td>`);
  // docs/roadmap.md (its figures computed by scripts/roadmap.sh from
  // TASKS.md), its own h1 dropped and headings moved one level down.
  if (roadmap) {
    html += '<section id="roadmap"><h2>Roadmap</h2>' + md(roadmap.replace(/^# .*\n/, '').replace(/^(#{2,5}) /gm, '#$1 ')) + '</section>';
  }
  html += '<h2>Repository outline</h2>' + md(outline);
  html += `<p class="muted small">Built ${new Date().toISOString().slice(0, 10)} from README.md, TASKS.md and docs/roadmap.md.</p>`;
  return html;
}

// section returns the body of "## title" up to the next "## " heading.
function section(text, title) {
  const start = text.indexOf('## ' + title);
  if (start < 0) return '';
  const body = text.slice(text.indexOf('\n', start) + 1);
  const end = body.search(/^## /m);
  return end < 0 ? body : body.slice(0, end);
}
