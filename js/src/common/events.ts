/**
 * The contract between the panel (anywidget ESM) and the JupyterLab extension: DOM events the
 * panel dispatches from its element. They bubble to the notebook panel, where the extension
 * listens and answers synchronously by cancelling the event and filling its `detail`. Both
 * bundles import this file, so names and shapes cannot drift apart.
 */

import type { SavedRecord } from './record';

/** The panel has rendered. The extension answers with the notebook's saved copy and a way to
 *  follow the kernel's status. */
export const PANEL_READY_EVENT = 'fooocus-widgets:ready';
/** The panel's state changed: the extension writes the record into the notebook's metadata. */
export const PANEL_STATE_EVENT = 'fooocus-widgets:state';
/** The user clicked Reconnect (or auto-reconnect fired): the extension brings the panel back. */
export const PANEL_RECONNECT_EVENT = 'fooocus-widgets:reconnect';

/** What the kernel is doing, as JupyterLab reports it. */
export type KernelStatus = 'idle' | 'busy' | 'starting' | 'restarting' | 'autorestarting' | 'dead' | 'unknown' | string;

export interface PanelReadyDetail {
  key: string;
  /** Filled by the extension: the notebook's path (namespaces browser storage). */
  notebookPath?: string;
  /** Filled by the extension: the record saved in the notebook's metadata, if any. */
  saved?: SavedRecord;
  /** Filled by the extension: subscribe to kernel status changes; returns an unsubscribe. */
  onKernelStatus?: (callback: (status: KernelStatus) => void) => () => void;
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
