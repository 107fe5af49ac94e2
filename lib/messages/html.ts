/**
 * HTML escaping for emails: every value that goes into the HTML part passes through `esc` (attendee
 * names, event names, anything typed by a person), and only values built here go in unescaped.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/** A text line with no control characters (a name cannot add lines or headers to the plain-text part). */
export function plain(value: unknown): string {
  let out = '';
  for (const char of String(value ?? '')) {
    const code = char.codePointAt(0) ?? 0;
    out += code < 0x20 || code === 0x7f ? ' ' : char;
  }
  return out;
}

/** An href: only http(s) URLs, escaped for the attribute. */
export function href(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('only http(s) links in emails');
  return esc(parsed.toString());
}

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(title)}</title></head>
<body style="margin:0;padding:0;background:#f6f3ee;font-family:Helvetica,Arial,sans-serif;color:#1d1d1f">
<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff">
${body}
<p style="margin-top:32px;font-size:12px;color:#666">A Lo Cubano Boulder Fest</p>
</div></body></html>`;
}
