// The portal's only script, served from /portal/portal.js: copy buttons, delete confirmation,
// local times and live status. Every action also works without it.
export const PORTAL_SCRIPT = `'use strict';
(() => {
  const root = document.querySelector('[data-portal]');
  if (!root) return;
  const live = document.getElementById('live');
  const pollMs = Number(root.dataset.pollMs) || 3000;
  let stopped = false;

  const announce = (text) => {
    if (!live) return;
    live.textContent = '';
    window.setTimeout(() => { live.textContent = text; }, 50);
  };

  const localTime = (iso) => {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  };

  const showTimes = (scope) => {
    for (const element of scope.querySelectorAll('time[datetime]')) {
      element.textContent = localTime(element.getAttribute('datetime'));
    }
  };

  const setTime = (element, iso, fallback) => {
    if (!element) return;
    if (iso) {
      element.setAttribute('datetime', iso);
      element.textContent = localTime(iso);
    } else {
      element.removeAttribute('datetime');
      element.textContent = fallback;
    }
  };

  const copyText = async (input) => {
    try {
      await navigator.clipboard.writeText(input.value);
      return true;
    } catch {
      input.focus();
      input.select();
      return document.execCommand('copy');
    }
  };

  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const input = document.getElementById(button.dataset.copy);
      if (!input) return;
      const copied = await copyText(input);
      announce(copied ? 'Copied ' + button.dataset.label : 'Press Control+C to copy the selection');
      if (!copied) return;
      button.textContent = 'Copied';
      window.setTimeout(() => { button.textContent = 'Copy'; }, 2000);
    });
  }

  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        return;
      }
      form.elements.namedItem('confirm').value = 'yes';
    });
  }

  const notice = document.getElementById('notice');
  const showNotice = (text) => {
    if (!notice) return;
    notice.querySelector('[data-notice-text]').textContent = text;
    notice.hidden = false;
  };

  const busy = () => {
    const input = document.getElementById('domain-input');
    return Boolean(input && (input.value !== '' || document.activeElement === input));
  };

  const update = (card, view) => {
    const summary = card.querySelector('[data-field="check-summary"]');
    if (summary) summary.textContent = view.check_summary;
    setTime(card.querySelector('[data-field="last-checked"]'), view.last_checked_at, '');
    setTime(card.querySelector('[data-field="next-check"]'), view.next_check_at, 'None scheduled');
    const hint = card.querySelector('[data-field="hint"]');
    if (hint) {
      hint.querySelector('[data-field="hint-text"]').textContent = view.hint || '';
      hint.hidden = !view.hint;
      hint.classList.toggle('doubled', view.doubled_name);
    }
  };

  const apply = (status) => {
    const cards = new Map();
    for (const card of root.querySelectorAll('[data-domain-id]')) {
      cards.set(card.dataset.domainId, card);
    }
    const changed = status.domains.length !== cards.size || status.domains.some((view) => {
      const card = cards.get(view.id);
      return !card || card.dataset.status !== view.status;
    });
    if (changed) {
      if (busy()) showNotice('Your domains changed.');
      else window.location.reload();
      return;
    }
    for (const view of status.domains) update(cards.get(view.id), view);
  };

  const poll = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try {
        const response = await fetch(root.dataset.statusUrl, {
          credentials: 'same-origin',
          headers: { accept: 'application/json' },
        });
        if (response.status === 401) {
          stopped = true;
          showNotice('Your session has ended. Ask for a new link to continue.');
          return;
        }
        if (response.ok) apply(await response.json());
      } catch {
        // The next poll tries again; the page itself stays usable.
      }
    }
    window.setTimeout(poll, pollMs);
  };

  showTimes(document);
  root.dataset.live = 'on';
  window.setTimeout(poll, pollMs);
})();
`;
