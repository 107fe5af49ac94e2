import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMail } from '../../lib/messages/transport.js';
import { type LocalServer, startLocalServer } from '../../scripts/local-server.js';
import type { MailCatcher } from '../../scripts/mail-catcher.js';
import { useMailCatcher } from '../support/mail.js';

/** The local mail page: served by the local server from the catcher, never part of api/ or public/. */

let catcher: MailCatcher;
let server: LocalServer;
let plain: LocalServer;

beforeAll(async () => {
  catcher = await useMailCatcher();
  server = await startLocalServer({ port: 0, mailCatcher: catcher });
  plain = await startLocalServer({ port: 0 });
});

afterAll(async () => {
  await server?.close();
  await plain?.close();
  await catcher?.close();
});

const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('/dev/mail', () => {
  it('shows caught messages, the HTML part sandboxed with its inline images', async () => {
    await sendMail({
      to: 'dev.mail@example.test',
      subject: 'Hello <b>dev</b>',
      text: 'plain part',
      html: '<p>html part</p><img src="cid:pixel@test"><script>parent.alert(1)</script>',
      messageId: '<dev-mail-test@boulderfest.outbox>',
      attachments: [{ filename: 'pixel.png', content: png, contentType: 'image/png', cid: 'pixel@test' }],
    });
    await catcher.waitFor((mail) => mail.envelope.to.includes('dev.mail@example.test'));
    const seq = catcher.messages.at(-1)?.seq;

    const page = await fetch(`${server.url}/dev/mail`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Hello &lt;b&gt;dev&lt;/b&gt;');
    expect(html).toContain(`/dev/mail/${seq}.html`);

    const part = await fetch(`${server.url}/dev/mail/${seq}.html`);
    expect(part.headers.get('content-security-policy')).toMatch(/^sandbox;/);
    const body = await part.text();
    expect(body).toContain('<p>html part</p>');
    expect(body).toContain(`src="data:image/png;base64,${png.toString('base64')}"`);

    const list = (await (await fetch(`${server.url}/dev/mail.json`)).json()) as { subject: string }[];
    expect(list.at(-1)?.subject).toBe('Hello <b>dev</b>');
  });

  it('is not there without a catcher, and nothing of it is under api/ or public/', async () => {
    expect((await fetch(`${plain.url}/dev/mail`)).status).toBe(404);
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [join(dir, name)]));
    const deployed = [...walk(join(process.cwd(), 'api')), ...walk(join(process.cwd(), 'public'))];
    expect(deployed.filter((file) => /dev[/\\]mail|mail-catcher/.test(file))).toEqual([]);
  });
});
