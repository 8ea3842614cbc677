/**
 * One view's Reconnect bar, drawn from the panel's one `ConnectionMonitor`: hidden while the
 * kernel is live; otherwise what happened, the Reconnect button and the auto-reconnect switch.
 * Every view of a panel shows the same state, and a click in any of them reconnects the panel.
 */

import type { Binder } from './bind';
import type { ConnectionMonitor } from './connection';
import { h } from './dom';

export function connectionBar(b: Binder, monitor: ConnectionMonitor, reconnect: () => void): HTMLElement {
  const text = h('span', 'fw-connection-text', { 'data-fw': 'connection-text' });
  const button = h('button', 'fw-button fw-primary fw-reconnect', { type: 'button', 'data-fw': 'reconnect' }, ['Reconnect']);
  const auto = h('input', '', { type: 'checkbox', 'data-fw': 'auto-reconnect' });
  const bar = h('div', 'fw-connection', { 'data-fw': 'connection', role: 'status' }, [
    text,
    button,
    h('label', 'fw-check fw-auto', { title: 'Reconnect by itself when the kernel comes back after a crash' }, [
      auto,
      h('span', '', {}, ['Reconnect automatically'])
    ])
  ]);
  b.listen(button, 'click', reconnect);
  b.listen(auto, 'change', () => monitor.setAutoReconnect(auto.checked));
  const show = (): void => {
    bar.hidden = monitor.state === 'live';
    bar.dataset.state = monitor.state;
    text.textContent = monitor.message;
    button.disabled = monitor.state === 'reconnecting';
    auto.checked = monitor.autoReconnect;
  };
  b.own(monitor.onChange(show));
  show();
  return bar;
}
