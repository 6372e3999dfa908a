// Parse Mermaid diagrams with the real Mermaid parser and report what it understood.
//
// Used by tests/test_render.py: reads a JSON array of {"name", "source"} on standard input and
// prints a JSON array of {"name", "ok", "error", "type", "states", "relations"}, where states
// maps each state id to its description and note, and relations lists {from, to, label}, all
// with Mermaid's entity codes (#quot; #35; ...) and <br/> line breaks decoded, so the test can
// compare them with the texts the diagram was built from. Mermaid needs a DOM for its
// sanitiser even to parse, so jsdom provides one. The directory holding node_modules with
// mermaid and jsdom is given by the environment variable PROPFLOW_MERMAID_MODULES.
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.env.PROPFLOW_MERMAID_MODULES;
if (!modules) {
  console.error("PROPFLOW_MERMAID_MODULES is not set");
  process.exit(2);
}
const require = createRequire(path.join(modules, "noop.js"));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const { JSDOM } = await load("jsdom");
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await load("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

const decoder = dom.window.document.createElement("textarea");
function decode(text) {
  // Mermaid keeps #name; and #123; as placeholders until it renders; turn them back into
  // HTML entities, then let the DOM decode those.
  const entities = String(text)
    .replace(/ﬂ°°/g, "&#")
    .replace(/ﬂ°/g, "&")
    .replace(/¶ß/g, ";");
  return entities
    .split(/<br\s*\/?>/i)
    .map((part) => {
      decoder.innerHTML = part;
      return decoder.value;
    })
    .join("\n");
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const { name, source } of input) {
  const result = { name, ok: false, error: null, type: null, states: {}, relations: [] };
  try {
    const parsed = await mermaid.parse(source);
    result.ok = parsed !== false;
    result.type = parsed.diagramType;
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(source);
    const db = diagram.db;
    if (typeof db.getStates === "function") {
      for (const [id, state] of db.getStates()) {
        result.states[id] = {
          descriptions: (state.descriptions || []).map(decode),
          note: state.note
            ? decode(state.note.text.split("\n").map((line) => line.trim()).join("\n"))
            : null,
        };
      }
      result.relations = db.getRelations().map((r) => ({
        from: r.id1,
        to: r.id2,
        label: decode(r.relationTitle || ""),
      }));
    }
  } catch (error) {
    result.error = String(error && error.message ? error.message : error);
  }
  results.push(result);
}
process.stdout.write(JSON.stringify(results));
