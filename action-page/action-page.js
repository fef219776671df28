// The action page of double-booking emails. The email's link opens this page with the action token
// in the fragment (#token=..., never sent to a server); the page posts the token to the send-alerts
// function, which answers JSON: first a preview (changes nothing), then, when the manager confirms,
// the action. Every string from the function goes in as text, never as markup.
//
// config.json, beside this file, says where the functions answer and where connecX is:
//   {"functionsUrl": "https://<project>.supabase.co/functions/v1", "portalUrl": "https://portal.example.com/"}
'use strict';

const content = document.getElementById('content');

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

function show(...nodes) {
  content.replaceChildren(...nodes);
}

let config = { functionsUrl: '', portalUrl: '' };

function portalLink() {
  if (!config.portalUrl) return [];
  return [el('p', {}, el('a', { href: config.portalUrl, id: 'portal-link' }, 'Open connecX to see the booking and its alerts'))];
}

function showDone(reply) {
  show(el('h1', {}, reply.title), el('p', { id: 'outcome' }, reply.text), ...portalLink());
}

function showProblem(text) {
  show(el('h1', {}, 'The action could not be checked'), el('p', {}, text), ...portalLink());
}

async function call(path, token) {
  const response = await fetch(`${config.functionsUrl.replace(/\/+$/, '')}/send-alerts/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  const reply = await response.json().catch(() => undefined);
  if (!reply || typeof reply.title !== 'string') {
    throw new Error(
      reply && typeof reply.error === 'string' ? reply.error : `connecX answered ${response.status}. Nothing was changed.`,
    );
  }
  return reply;
}

function showConfirmation(reply, token) {
  const facts = el('dl', {});
  for (const fact of reply.facts) facts.append(el('dt', {}, fact.label), el('dd', {}, fact.value));
  const consequence = el('div', { class: 'consequence' });
  reply.consequence.forEach((text, i) => {
    const p = el('p', {});
    if (i === 0) p.append(el('strong', {}, 'What happens: '));
    p.append(text);
    consequence.append(p);
  });
  const button = el('button', { type: 'button', id: 'confirm' }, reply.button);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      showDone(await call('act', token));
    } catch (error) {
      showProblem(error.message);
    }
  });
  show(el('h1', {}, reply.title), facts, consequence, button, el('p', { class: 'muted' }, reply.note));
}

async function main() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    config = await response.json();
  } catch {
    showProblem('This page is missing its config.json (functionsUrl), so it cannot reach connecX.');
    return;
  }
  if (!token) {
    showProblem('Open this page from the link in a connecX alert email: the link carries what the action needs.');
    return;
  }
  try {
    const reply = await call('act/preview', token);
    if (reply.status === 'confirm') showConfirmation(reply, token);
    else showDone(reply);
  } catch (error) {
    showProblem(error.message);
  }
}

main();
