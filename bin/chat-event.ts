/**
 * Signed slash-command events for the chatops function (events/chat/README.md).
 *   npm run chat-event -- --write                      # writes events/chat/*.json, signed at their fixed time
 *   npm run chat-event -- events/chat/slack-run.json   # the same event signed now, on stdout
 * Signing anew uses SLACK_SIGNING_SECRET and MATTERMOST_TOKEN when set, else the events' test secrets.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { EVENTS, EVENTS_MATTERMOST_TOKEN, EVENTS_SLACK_SECRET, signedEvent } from '../local/chat-events.ts';

const [arg] = process.argv.slice(2);
if (arg === '--write') {
  for (const [name, make] of Object.entries(EVENTS))
    writeFileSync(new URL(`../events/chat/${name}`, import.meta.url), `${JSON.stringify(make(), null, 2)}\n`);
  console.log(`wrote ${Object.keys(EVENTS).length} events to events/chat/`);
} else if (arg) {
  const event = JSON.parse(readFileSync(arg, 'utf8')) as ReturnType<typeof signedEvent>;
  const platform = event.headers['x-slack-signature'] ? 'slack' : 'mattermost';
  const fields = Object.fromEntries(new URLSearchParams(Buffer.from(event.body, 'base64').toString()));
  const secrets = {
    slack: process.env.SLACK_SIGNING_SECRET || EVENTS_SLACK_SECRET,
    mattermost: process.env.MATTERMOST_TOKEN || EVENTS_MATTERMOST_TOKEN,
  };
  console.log(JSON.stringify(signedEvent(platform, fields, Math.floor(Date.now() / 1000), secrets), null, 2));
} else {
  console.error('usage: npm run chat-event -- --write | <events/chat/file.json>');
  process.exit(2);
}
