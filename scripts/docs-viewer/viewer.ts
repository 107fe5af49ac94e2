/**
 * The API reference page (/docs): a small self-made renderer of /api/openapi.json, bundled by
 * esbuild into public/docs/viewer.js, loaded by public/docs/index.html (`npm run build:docs`; the CSP allows no inline script). No CDN, no external request: the page
 * fetches only the document from its own origin.
 */

type Json = Record<string, unknown>;
type Schema = Json & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  $ref?: string;
  description?: string;
  additionalProperties?: boolean | Schema;
};

let root: Json = {};

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  for (const child of children) if (child !== undefined && child !== false) el.append(child);
  return el;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function inlineMarkdown(line: string): string {
  return escapeHtml(line)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

/** Enough Markdown for the document's descriptions: paragraphs, tables, `code`, **bold**. */
function markdown(text: string): HTMLElement {
  const box = h('div', { class: 'md' });
  const inline = inlineMarkdown;
  const blocks = text.split(/\n{2,}/);
  for (const block of blocks) {
    const lines = block.split('\n');
    if (lines.every((line) => line.trim().startsWith('|'))) {
      const rows = lines.filter((line) => !/^\|\s*-/.test(line.trim()));
      const table = h('table');
      rows.forEach((row, index) => {
        const cells = row
          .trim()
          .replace(/^\||\|$/g, '')
          .split('|');
        const tr = h('tr');
        for (const cell of cells) {
          const td = h(index === 0 ? 'th' : 'td');
          td.innerHTML = inline(cell.trim());
          tr.append(td);
        }
        table.append(tr);
      });
      box.append(table);
    } else {
      const p = h('p');
      p.innerHTML = lines.map(inline).join('<br>');
      box.append(p);
    }
  }
  return box;
}

function resolveRef(ref: string): Schema {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<Json>((node, key) => (node?.[key] ?? {}) as Json, root) as Schema;
}

function typeLabel(schema: Schema): string {
  if (schema.$ref) return schema.$ref.split('/').pop() ?? 'object';
  if (schema.anyOf) return schema.anyOf.map(typeLabel).join(' | ');
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if ('const' in schema) return JSON.stringify(schema.const);
  if (schema.type === 'array') return `${typeLabel(schema.items ?? {})}[]`;
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
  return schema.format ? `${type} (${String(schema.format)})` : type;
}

const CONSTRAINTS = ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'default'] as const;

function constraints(schema: Schema): string {
  const parts: string[] = [];
  for (const key of CONSTRAINTS) {
    const value = schema[key];
    // zod writes the safe-integer bounds on every integer: no information for a reader.
    if (value === undefined || value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER) continue;
    parts.push(`${key} ${JSON.stringify(value)}`);
  }
  if (typeof schema.pattern === 'string' && schema.pattern.length < 60) parts.push(`pattern ${schema.pattern}`);
  return parts.join(', ');
}

/** The object (or array of objects) a schema describes, for nesting. */
function objectOf(schema: Schema): Schema | undefined {
  if (schema.$ref) return objectOf(resolveRef(schema.$ref));
  if (schema.properties) return schema;
  if (schema.type === 'array' && schema.items) return objectOf(schema.items);
  if (schema.anyOf) {
    const objects = schema.anyOf.map(objectOf).filter((s): s is Schema => s !== undefined);
    return objects.length === 1 ? objects[0] : undefined;
  }
  if (schema.allOf) {
    const merged: Schema = { properties: {}, required: [] };
    for (const part of schema.allOf.map((s) => (s.$ref ? resolveRef(s.$ref) : s))) {
      Object.assign(merged.properties as object, part.properties);
      merged.required?.push(...(part.required ?? []));
    }
    return merged;
  }
  return undefined;
}

function schemaTree(schema: Schema, depth = 0): HTMLElement {
  const object = objectOf(schema);
  if (!object?.properties) return h('p', { class: 'type' }, typeLabel(schema));
  const list = h('ul', { class: 'fields' });
  for (const [name, property] of Object.entries(object.properties)) {
    const required = object.required?.includes(name);
    const nested = depth < 6 ? objectOf(property) : undefined;
    const rule = constraints(property);
    list.append(
      h(
        'li',
        {},
        h('code', { class: 'name' }, name),
        ' ',
        h('span', { class: 'type' }, nested && property.type !== 'array' && !property.anyOf ? 'object' : typeLabel(property)),
        required ? h('span', { class: 'req' }, ' required') : '',
        rule ? h('span', { class: 'rule' }, ` · ${rule}`) : '',
        property.description ? markdown(String(property.description)) : undefined,
        nested ? schemaTree(nested, depth + 1) : undefined,
      ),
    );
  }
  return list;
}

function securityText(security: Json[] | undefined): string {
  if (!security || security.length === 0) return 'none (public)';
  return security
    .map((requirement) =>
      Object.entries(requirement)
        .map(([name, scopes]) => (Array.isArray(scopes) && scopes.length > 0 ? `${name} (${scopes.join(', ')})` : name))
        .join(' + '),
    )
    .join(' or ');
}

const slug = (method: string, path: string) => `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, '-');

function operationView(path: string, method: string, op: Json): HTMLElement {
  const section = h('section', { class: 'op', id: slug(method, path) });
  section.append(
    h('h3', {}, h('span', { class: `method ${method}` }, method.toUpperCase()), ' ', h('code', {}, path)),
    h('p', { class: 'summary' }, String(op.summary ?? '')),
  );
  if (op.description) section.append(markdown(String(op.description)));
  section.append(h('p', { class: 'auth' }, h('strong', {}, 'Auth: '), securityText(op.security as Json[] | undefined)));
  const params = (op.parameters as Json[] | undefined) ?? [];
  if (params.length > 0) {
    const table = h('table', {}, h('tr', {}, h('th', {}, 'parameter'), h('th', {}, 'in'), h('th', {}, 'type'), h('th', {}, '')));
    for (const p of params) {
      const schema = (p.schema ?? {}) as Schema;
      table.append(
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, String(p.name)), p.required ? h('span', { class: 'req' }, ' required') : ''),
          h('td', {}, String(p.in)),
          h('td', {}, typeLabel(schema), constraints(schema) ? h('span', { class: 'rule' }, ` · ${constraints(schema)}`) : ''),
          h('td', {}, p.description ? markdown(String(p.description)) : ''),
        ),
      );
    }
    section.append(h('h4', {}, 'Parameters'), table);
  }
  const body = (op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
  const jsonBody = body?.['application/json'];
  if (jsonBody) {
    const bodySchema = jsonBody.schema as Schema;
    section.append(h('h4', {}, 'Request body'));
    if (bodySchema.description) section.append(markdown(bodySchema.description));
    section.append(schemaTree(bodySchema));
    if (jsonBody.example !== undefined) section.append(h('pre', {}, JSON.stringify(jsonBody.example, null, 2)));
  }
  const samples = (op['x-codeSamples'] as { source: string }[] | undefined) ?? [];
  for (const sample of samples) section.append(h('h4', {}, 'cURL'), h('pre', {}, sample.source));
  section.append(h('h4', {}, 'Responses'));
  for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
    const details = h('details', { class: `status s${status[0]}` });
    const headers = Object.keys((response.headers ?? {}) as Json);
    const summary = h('summary', {}, h('strong', {}, status), ' ');
    summary.insertAdjacentHTML('beforeend', inlineMarkdown(String(response.description ?? '')));
    details.append(summary);
    if (headers.length > 0) details.append(h('p', { class: 'rule' }, `Headers: ${headers.join(', ')}`));
    for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, Json>)) {
      details.append(h('p', { class: 'rule' }, type), schemaTree((media.schema ?? {}) as Schema));
    }
    section.append(details);
  }
  return section;
}

async function main(): Promise<void> {
  const app = document.getElementById('app') as HTMLElement;
  const source = document.body.dataset.openapi ?? '/api/openapi.json';
  const response = await fetch(source, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${source} answered ${response.status}`);
  root = (await response.json()) as Json;
  const info = root.info as Json;
  document.title = `${String(info.title)} — reference`;
  const nav = h('nav', {}, h('input', { type: 'search', placeholder: 'Filter endpoints…', id: 'filter' }));
  const main = h('main', {}, h('h1', {}, String(info.title), ' ', h('small', {}, String(info.version))));
  main.append(markdown(String(info.description ?? '')));
  main.append(
    h('p', {}, 'The machine-readable document: ', h('a', { href: source }, source), ' (OpenAPI ', String(root.openapi), ').'),
  );
  const paths = root.paths as Record<string, Record<string, Json>>;
  const tags = ((root.tags as { name: string }[] | undefined) ?? []).map((t) => t.name);
  for (const tag of tags) {
    const ops = Object.entries(paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method, op]) => method !== 'options' && (op.tags as string[] | undefined)?.[0] === tag)
        .map(([method, op]) => ({ path, method, op })),
    );
    if (ops.length === 0) continue;
    const group = h('ul');
    nav.append(h('h2', {}, tag), group);
    main.append(h('h2', { class: 'tag' }, tag));
    for (const { path, method, op } of ops) {
      group.append(
        h(
          'li',
          { 'data-search': `${method} ${path} ${String(op.summary)}`.toLowerCase() },
          h('a', { href: `#${slug(method, path)}` }, h('span', { class: `method ${method}` }, method.toUpperCase()), ` ${path}`),
        ),
      );
      main.append(operationView(path, method, op));
    }
  }
  const schemes = ((root.components as Json).securitySchemes ?? {}) as Record<string, Json>;
  main.append(h('h2', { class: 'tag', id: 'auth' }, 'Authentication'));
  for (const [name, scheme] of Object.entries(schemes)) {
    main.append(h('h3', {}, h('code', {}, name)), markdown(String(scheme.description ?? '')));
  }
  app.replaceChildren(nav, main);
  const filter = document.getElementById('filter') as HTMLInputElement;
  filter.addEventListener('input', () => {
    const needle = filter.value.trim().toLowerCase();
    for (const li of nav.querySelectorAll<HTMLLIElement>('li[data-search]')) {
      li.hidden = needle !== '' && !(li.dataset.search ?? '').includes(needle);
    }
  });
  document.body.dataset.ready = 'true';
}

main().catch((error: unknown) => {
  const app = document.getElementById('app');
  if (app) app.textContent = `Could not load the API document: ${error instanceof Error ? error.message : String(error)}`;
  document.body.dataset.ready = 'error';
});
