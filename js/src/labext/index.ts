/**
 * The fooocus-widgets JupyterLab extension: keeps each panel's state in the notebook's metadata
 * (so it is saved with the .ipynb), tells panels what the kernel is doing, and on Reconnect makes
 * sure a kernel runs and brings back, each in its own cell with everything the user had, the
 * panel and every other panel of the notebook whose kernel connection is gone. Where a reopened
 * notebook's panel has no widget model any more, it shows the panel's saved summary with a
 * "Restore panel" button.
 *
 * This file is the plugin only: each open notebook gets one `NotebookBridge` (./bridge), which
 * removes everything it attached when the notebook closes. The metadata bridge is ./metadata,
 * kernel status ./kernel, the reconnect flow ./reconnect (one panel) and ./reconnect-all (every
 * dead panel, one after another), its User Timing entries ./timing, and the saved summaries
 * ./saved-summary.
 */

import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { NotebookBridge } from './bridge';

export { writeRecord } from './metadata';
export { RECONNECT_KERNEL_READY_MARK, RECONNECT_MEASURE, RECONNECT_START_MARK, type ReconnectMeasureDetail } from './timing';

export const PLUGIN_ID = 'fooocus-widgets:plugin';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Keeps fooocus-widgets panel state in the notebook and reconnects panels after a kernel restart.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker): void => {
    const bridges = new WeakMap<NotebookPanel, NotebookBridge>();
    const attach = (panel: NotebookPanel): void => {
      if (panel.isDisposed || bridges.get(panel)?.isDisposed === false) return;
      bridges.set(panel, new NotebookBridge(panel)); // disposes itself on panel.disposed
    };
    tracker.forEach(attach);
    tracker.widgetAdded.connect((_sender, panel) => attach(panel));
    console.info('[fooocus-widgets] lab extension activated');
  }
};

export default plugin;
