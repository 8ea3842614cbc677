/**
 * The contract between the panel (anywidget ESM) and the JupyterLab extension: DOM events the
 * panel dispatches from one of its views' elements (once per panel, not per view). They bubble
 * to the notebook panel, where the extension listens and answers synchronously by cancelling the
 * event and filling its `detail`; an event nobody answered is tried again from the panel's next
 * view. Both bundles import this file, so names and shapes cannot drift apart.
 */

import type { SavedRecord } from './record';

/** The panel has its first view on the page. The extension answers with the notebook's saved copy
 *  and a way to follow the kernel's status. */
export const PANEL_READY_EVENT = 'fooocus-widgets:ready';
/** The panel's state changed: the extension writes the record into the notebook's metadata. */
export const PANEL_STATE_EVENT = 'fooocus-widgets:state';
/** The user clicked Reconnect (or auto-reconnect fired): the extension brings the panel back. */
export const PANEL_RECONNECT_EVENT = 'fooocus-widgets:reconnect';

/** Every kernel status a panel can be told, as the extension maps JupyterLab's (a closed list:
 *  whoever receives one handles each case). */
export const KERNEL_STATUSES = ['idle', 'busy', 'starting', 'restarting', 'autorestarting', 'dead', 'unknown'] as const;

/** What the kernel is doing, as JupyterLab reports it. */
export type KernelStatus = (typeof KERNEL_STATUSES)[number];

/** Is `value` one of the statuses above? (For callers that receive a status as plain data.) */
export function isKernelStatus(value: unknown): value is KernelStatus {
  return typeof value === 'string' && (KERNEL_STATUSES as readonly string[]).includes(value);
}

export interface PanelReadyDetail {
  key: string;
  /** Filled by the extension: the notebook's path (namespaces browser storage). */
  notebookPath?: string;
  /** Filled by the extension: the record saved in the notebook's metadata, if any. */
  saved?: SavedRecord;
  /** Filled by the extension: why the notebook's saved copy of this panel was not used (malformed
   *  or too large), in a sentence for the panel's error area; absent when there is nothing to say. */
  refused?: string;
  /** Filled by the extension: subscribe to kernel status changes; returns an unsubscribe. */
  onKernelStatus?: (callback: (status: KernelStatus) => void) => () => void;
  /** Filled by the extension: subscribe to "another window is bringing this panel back" (real-time
   *  collaboration: exactly one window rebuilds a panel); called with true while one is, false when
   *  no longer. Returns an unsubscribe. */
  onReconnectElsewhere?: (callback: (elsewhere: boolean) => void) => () => void;
}

export interface PanelStateDetail {
  key: string;
  record: SavedRecord;
}

export interface PanelReconnectDetail {
  key: string;
  record: SavedRecord;
  /** Called by the extension when the new panel is running (or when it failed, with why). */
  done?: (ok: boolean, message: string) => void;
}
