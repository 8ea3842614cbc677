/**
 * One view's Reconnect bar, drawn from the panel's one `ConnectionMonitor`: hidden while the
 * kernel is live; otherwise what happened, the Reconnect button and the auto-reconnect switch.
 * Every view of a panel shows the same state, and a click in any of them reconnects the panel.
 * Where Reconnect cannot work (no JupyterLab extension) the bar shows neither the button nor the
 * switch, only what happened and that the cell must run again. Its `data-recovery` ('reconnect'
 * or 'rerun') and `data-keeps` (where edits made meanwhile are kept) say which.
 */

import type { Binder } from './bind';
import type { ConnectionMonitor } from './connection';
import { h } from './dom';

export function connectionBar(b: Binder, monitor: ConnectionMonitor, reconnect: () => void): HTMLElement {
  const text = h('span', 'fw-connection-text', { 'data-fw': 'connection-text' });
  const button = h(
    'button',
    'fw-button fw-primary fw-reconnect',
    { type: 'button', 'data-fw': 'reconnect', title: 'Bring back this panel and every other panel of the notebook that lost its kernel' },
    ['Reconnect']
  );
  const auto = h('input', '', { type: 'checkbox', 'data-fw': 'auto-reconnect' });
  const autoLabel = h('label', 'fw-check fw-auto', { title: 'Reconnect by itself when the kernel comes back after a crash' }, [
    auto,
    h('span', '', {}, ['Reconnect automatically'])
  ]);
  const bar = h('div', 'fw-connection', { 'data-fw': 'connection', role: 'status' }, [text, button, autoLabel]);
  b.listen(button, 'click', reconnect);
  b.listen(auto, 'change', () => monitor.setAutoReconnect(auto.checked));
  const show = (): void => {
    bar.hidden = monitor.state === 'live';
    bar.dataset.state = monitor.state;
    bar.dataset.recovery = monitor.canReconnect ? 'reconnect' : 'rerun';
    bar.dataset.keeps = monitor.keeps;
    text.textContent = monitor.message;
    button.hidden = !monitor.canReconnect;
    autoLabel.hidden = !monitor.canReconnect;
    autoLabel.style.display = monitor.canReconnect ? '' : 'none'; // .fw-check's display wins over [hidden]
    button.disabled = monitor.state === 'reconnecting';
    auto.checked = monitor.autoReconnect;
  };
  b.own(monitor.onChange(show));
  show();
  return bar;
}
