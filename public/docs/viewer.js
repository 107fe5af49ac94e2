"use strict";
(() => {
  // scripts/docs-viewer/viewer.ts
  var root = {};
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
    for (const child of children) if (child !== void 0 && child !== false) el.append(child);
    return el;
  }
  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }
  function inlineMarkdown(line) {
    return escapeHtml(line).replace(/`([^`]+)`/g, "<code>$1</code>").replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
  }
  function markdown(text) {
    const box = h("div", { class: "md" });
    const inline = inlineMarkdown;
    const blocks = text.split(/\n{2,}/);
    for (const block of blocks) {
      const lines = block.split("\n");
      if (lines.every((line) => line.trim().startsWith("|"))) {
        const rows = lines.filter((line) => !/^\|\s*-/.test(line.trim()));
        const table = h("table");
        rows.forEach((row, index) => {
          const cells = row.trim().replace(/^\||\|$/g, "").split("|");
          const tr = h("tr");
          for (const cell of cells) {
            const td = h(index === 0 ? "th" : "td");
            td.innerHTML = inline(cell.trim());
            tr.append(td);
          }
          table.append(tr);
        });
        box.append(table);
      } else {
        const p = h("p");
        p.innerHTML = lines.map(inline).join("<br>");
        box.append(p);
      }
    }
    return box;
  }
  function resolveRef(ref) {
    return ref.replace(/^#\//, "").split("/").reduce((node, key) => node?.[key] ?? {}, root);
  }
  function typeLabel(schema) {
    if (schema.$ref) return schema.$ref.split("/").pop() ?? "object";
    if (schema.anyOf) return schema.anyOf.map(typeLabel).join(" | ");
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    if ("const" in schema) return JSON.stringify(schema.const);
    if (schema.type === "array") return `${typeLabel(schema.items ?? {})}[]`;
    const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type ?? "any";
    return schema.format ? `${type} (${String(schema.format)})` : type;
  }
  var CONSTRAINTS = ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "default"];
  function constraints(schema) {
    const parts = [];
    for (const key of CONSTRAINTS) {
      const value = schema[key];
      if (value === void 0 || value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER) continue;
      parts.push(`${key} ${JSON.stringify(value)}`);
    }
    if (typeof schema.pattern === "string" && schema.pattern.length < 60) parts.push(`pattern ${schema.pattern}`);
    return parts.join(", ");
  }
  function objectOf(schema) {
    if (schema.$ref) return objectOf(resolveRef(schema.$ref));
    if (schema.properties) return schema;
    if (schema.type === "array" && schema.items) return objectOf(schema.items);
    if (schema.anyOf) {
      const objects = schema.anyOf.map(objectOf).filter((s) => s !== void 0);
      return objects.length === 1 ? objects[0] : void 0;
    }
    if (schema.allOf) {
      const merged = { properties: {}, required: [] };
      for (const part of schema.allOf.map((s) => s.$ref ? resolveRef(s.$ref) : s)) {
        Object.assign(merged.properties, part.properties);
        merged.required?.push(...part.required ?? []);
      }
      return merged;
    }
    return void 0;
  }
  function schemaTree(schema, depth = 0) {
    const object = objectOf(schema);
    if (!object?.properties) return h("p", { class: "type" }, typeLabel(schema));
    const list = h("ul", { class: "fields" });
    for (const [name, property] of Object.entries(object.properties)) {
      const required = object.required?.includes(name);
      const nested = depth < 6 ? objectOf(property) : void 0;
      const rule = constraints(property);
      list.append(
        h(
          "li",
          {},
          h("code", { class: "name" }, name),
          " ",
          h("span", { class: "type" }, nested && property.type !== "array" && !property.anyOf ? "object" : typeLabel(property)),
          required ? h("span", { class: "req" }, " required") : "",
          rule ? h("span", { class: "rule" }, ` \xB7 ${rule}`) : "",
          property.description ? markdown(String(property.description)) : void 0,
          nested ? schemaTree(nested, depth + 1) : void 0
        )
      );
    }
    return list;
  }
  function securityText(security) {
    if (!security || security.length === 0) return "none (public)";
    return security.map(
      (requirement) => Object.entries(requirement).map(([name, scopes]) => Array.isArray(scopes) && scopes.length > 0 ? `${name} (${scopes.join(", ")})` : name).join(" + ")
    ).join(" or ");
  }
  var slug = (method, path) => `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-");
  function operationView(path, method, op) {
    const section = h("section", { class: "op", id: slug(method, path) });
    section.append(
      h("h3", {}, h("span", { class: `method ${method}` }, method.toUpperCase()), " ", h("code", {}, path)),
      h("p", { class: "summary" }, String(op.summary ?? ""))
    );
    if (op.description) section.append(markdown(String(op.description)));
    section.append(h("p", { class: "auth" }, h("strong", {}, "Auth: "), securityText(op.security)));
    const params = op.parameters ?? [];
    if (params.length > 0) {
      const table = h("table", {}, h("tr", {}, h("th", {}, "parameter"), h("th", {}, "in"), h("th", {}, "type"), h("th", {}, "")));
      for (const p of params) {
        const schema = p.schema ?? {};
        table.append(
          h(
            "tr",
            {},
            h("td", {}, h("code", {}, String(p.name)), p.required ? h("span", { class: "req" }, " required") : ""),
            h("td", {}, String(p.in)),
            h("td", {}, typeLabel(schema), constraints(schema) ? h("span", { class: "rule" }, ` \xB7 ${constraints(schema)}`) : ""),
            h("td", {}, p.description ? markdown(String(p.description)) : "")
          )
        );
      }
      section.append(h("h4", {}, "Parameters"), table);
    }
    const body = op.requestBody?.content;
    const jsonBody = body?.["application/json"];
    if (jsonBody) {
      const bodySchema = jsonBody.schema;
      section.append(h("h4", {}, "Request body"));
      if (bodySchema.description) section.append(markdown(bodySchema.description));
      section.append(schemaTree(bodySchema));
      if (jsonBody.example !== void 0) section.append(h("pre", {}, JSON.stringify(jsonBody.example, null, 2)));
    }
    const samples = op["x-codeSamples"] ?? [];
    for (const sample of samples) section.append(h("h4", {}, "cURL"), h("pre", {}, sample.source));
    section.append(h("h4", {}, "Responses"));
    for (const [status, response] of Object.entries(op.responses ?? {})) {
      const details = h("details", { class: `status s${status[0]}` });
      const headers = Object.keys(response.headers ?? {});
      const summary = h("summary", {}, h("strong", {}, status), " ");
      summary.insertAdjacentHTML("beforeend", inlineMarkdown(String(response.description ?? "")));
      details.append(summary);
      if (headers.length > 0) details.append(h("p", { class: "rule" }, `Headers: ${headers.join(", ")}`));
      for (const [type, media] of Object.entries(response.content ?? {})) {
        details.append(h("p", { class: "rule" }, type), schemaTree(media.schema ?? {}));
      }
      section.append(details);
    }
    return section;
  }
  async function main() {
    const app = document.getElementById("app");
    const source = document.body.dataset.openapi ?? "/api/openapi.json";
    const response = await fetch(source, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(`${source} answered ${response.status}`);
    root = await response.json();
    const info = root.info;
    document.title = `${String(info.title)} \u2014 reference`;
    const nav = h("nav", {}, h("input", { type: "search", placeholder: "Filter endpoints\u2026", id: "filter" }));
    const main2 = h("main", {}, h("h1", {}, String(info.title), " ", h("small", {}, String(info.version))));
    main2.append(markdown(String(info.description ?? "")));
    main2.append(
      h("p", {}, "The machine-readable document: ", h("a", { href: source }, source), " (OpenAPI ", String(root.openapi), ").")
    );
    const paths = root.paths;
    const tags = (root.tags ?? []).map((t) => t.name);
    for (const tag of tags) {
      const ops = Object.entries(paths).flatMap(
        ([path, item]) => Object.entries(item).filter(([method, op]) => method !== "options" && op.tags?.[0] === tag).map(([method, op]) => ({ path, method, op }))
      );
      if (ops.length === 0) continue;
      const group = h("ul");
      nav.append(h("h2", {}, tag), group);
      main2.append(h("h2", { class: "tag" }, tag));
      for (const { path, method, op } of ops) {
        group.append(
          h(
            "li",
            { "data-search": `${method} ${path} ${String(op.summary)}`.toLowerCase() },
            h("a", { href: `#${slug(method, path)}` }, h("span", { class: `method ${method}` }, method.toUpperCase()), ` ${path}`)
          )
        );
        main2.append(operationView(path, method, op));
      }
    }
    const schemes = root.components.securitySchemes ?? {};
    main2.append(h("h2", { class: "tag", id: "auth" }, "Authentication"));
    for (const [name, scheme] of Object.entries(schemes)) {
      main2.append(h("h3", {}, h("code", {}, name)), markdown(String(scheme.description ?? "")));
    }
    app.replaceChildren(nav, main2);
    const filter = document.getElementById("filter");
    filter.addEventListener("input", () => {
      const needle = filter.value.trim().toLowerCase();
      for (const li of nav.querySelectorAll("li[data-search]")) {
        li.hidden = needle !== "" && !(li.dataset.search ?? "").includes(needle);
      }
    });
    document.body.dataset.ready = "true";
  }
  main().catch((error) => {
    const app = document.getElementById("app");
    if (app) app.textContent = `Could not load the API document: ${error instanceof Error ? error.message : String(error)}`;
    document.body.dataset.ready = "error";
  });
})();
