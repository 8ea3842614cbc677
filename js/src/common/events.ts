/**
 * The contract between the panel (anywidget ESM) and the JupyterLab extension: DOM events the
 * panel dispatches from its element. They bubble to the notebook panel, where the extension
 * listens. Both bundles import this file, so the names cannot drift apart.
 */

/** Dispatched when the panel has rendered; the extension logs it and (later) answers. */
export const PANEL_READY_EVENT = 'fooocus-widgets:ready';

export interface PanelReadyDetail {
  key: string;
}
