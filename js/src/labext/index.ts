/**
 * The fooocus-widgets JupyterLab extension. It will carry the notebook-metadata bridge and the
 * Reconnect handling; for now it registers, watches notebooks and logs the panels it sees.
 */

import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { PANEL_READY_EVENT, type PanelReadyDetail } from '../common/events';

export const PLUGIN_ID = 'fooocus-widgets:plugin';

function attach(panel: NotebookPanel, seen: WeakSet<NotebookPanel>): void {
  if (seen.has(panel)) return;
  seen.add(panel);
  panel.node.addEventListener(PANEL_READY_EVENT, (ev: Event) => {
    const detail = (ev as CustomEvent<PanelReadyDetail>).detail;
    ev.preventDefault(); // tells the panel that the extension is here
    console.debug(`[fooocus-widgets] panel ${detail.key} in ${panel.context.path}`);
  });
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Keeps fooocus-widgets panel state in the notebook and reconnects panels after a kernel restart.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker): void => {
    const seen = new WeakSet<NotebookPanel>();
    tracker.forEach(panel => attach(panel, seen));
    tracker.widgetAdded.connect((_sender, panel) => attach(panel, seen));
    console.info('[fooocus-widgets] lab extension activated');
  }
};

export default plugin;
