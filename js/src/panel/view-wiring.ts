/**
 * Ties one view to its panel's session: the root's `data-fw-session`, `data-fw-host` and
 * `data-fw-handshake` hooks follow the session, and Generate shows only while the kernel is live
 * and idle (Stop and Skip while it is live and busy).
 */

import type { Binder } from './bind';
import type { RunButtons } from './prompt-row';
import type { PanelSession } from './session';

export function wireView(b: Binder, session: PanelSession, root: HTMLElement, buttons: RunButtons): void {
  root.dataset.fwSession = session.id;
  const showSession = (): void => {
    if (session.host) root.dataset.fwHost = session.host;
    if (session.handshake) root.dataset.fwHandshake = session.handshake.join(',') || 'in-step';
  };
  b.own(session.onChange(showSession));
  showSession();

  const showButtons = (): void => {
    const busy = b.model.get('busy');
    const live = session.monitor.state === 'live';
    buttons.generate.hidden = busy || !live;
    buttons.stop.hidden = !busy || !live;
    buttons.skip.hidden = !busy || !live;
  };
  b.watch('busy', showButtons);
  b.own(session.monitor.onChange(showButtons));
  showButtons();
}
