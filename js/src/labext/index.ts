/**
 * The fooocus-widgets JupyterLab extension: keeps each panel's state in the notebook's metadata
 * (so it is saved with the .ipynb), tells panels what the kernel is doing, and on Reconnect makes
 * sure a kernel runs and brings the panel back in its own cell with everything the user had.
 */

import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import type { CodeCell } from '@jupyterlab/cells';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { OutputArea } from '@jupyterlab/outputarea';
import {
  PANEL_READY_EVENT,
  PANEL_RECONNECT_EVENT,
  PANEL_STATE_EVENT,
  type KernelStatus,
  type PanelReadyDetail,
  type PanelReconnectDetail,
  type PanelStateDetail
} from '../common/events';
import {
  isRecord,
  METADATA_KEY,
  newer,
  panelVariable,
  rehydrateCode,
  type NotebookMetadata,
  type SavedRecord
} from '../common/record';

export const PLUGIN_ID = 'fooocus-widgets:plugin';
const KERNEL_WAIT_MS = 60_000;

/** Timing of the last reconnect, for benchmarks/recovery.py. */
export interface ReconnectTiming {
  key: string;
  ms: number;
  waitedForKernelMs: number;
  status: string;
}

declare global {
  interface Window {
    fooocusWidgetsReconnects?: ReconnectTiming[];
  }
}

function readMetadata(panel: NotebookPanel): NotebookMetadata {
  const raw = panel.model?.getMetadata(METADATA_KEY) as Partial<NotebookMetadata> | undefined;
  const panels: Record<string, SavedRecord> = {};
  if (raw && typeof raw === 'object' && raw.panels && typeof raw.panels === 'object') {
    for (const [key, record] of Object.entries(raw.panels)) if (isRecord(record)) panels[key] = record;
  }
  return { panels };
}

/** Write a panel's record into the notebook's metadata when it is newer (marks it dirty). */
export function writeRecord(panel: NotebookPanel, key: string, record: SavedRecord): void {
  const model = panel.model;
  if (!model) return;
  const meta = readMetadata(panel);
  const current = meta.panels[key];
  if (current && newer(current, record) === current && current.revision > record.revision) return;
  if (current && JSON.stringify({ ...current, updated_at: '' }) === JSON.stringify({ ...record, updated_at: '' })) return;
  model.setMetadata(METADATA_KEY, { ...meta, panels: { ...meta.panels, [key]: record } });
}

function kernelStatus(panel: NotebookPanel): KernelStatus {
  const ctx = panel.sessionContext;
  if (ctx.isDisposed) return 'dead';
  const kernel = ctx.session?.kernel;
  if (!kernel) return ctx.hasNoKernel ? 'dead' : 'unknown';
  return kernel.status;
}

function findCodeCell(panel: NotebookPanel, target: EventTarget | null): CodeCell | null {
  if (!(target instanceof Node)) return null;
  for (const cell of panel.content.widgets) {
    if (cell.model.type === 'code' && cell.node.contains(target)) return cell as CodeCell;
  }
  return null;
}

/** Resolve once the notebook has a kernel that is idle or busy (restarting it when it died). */
async function ensureKernel(panel: NotebookPanel): Promise<void> {
  const ctx = panel.sessionContext;
  const ready = (): boolean => ['idle', 'busy'].includes(kernelStatus(panel)) && !!ctx.session?.kernel;
  if (ready()) return;
  if (kernelStatus(panel) === 'dead' || !ctx.session?.kernel) {
    // a dead kernel cannot restart: start a fresh one of the same kind
    const name = ctx.prevKernelName || ctx.kernelPreference.name || 'python3';
    await ctx.changeKernel({ name });
  }
  await ctx.ready;
  if (ready()) return;
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => {
      ctx.statusChanged.disconnect(check);
      reject(new Error('the kernel did not come back within a minute'));
    }, KERNEL_WAIT_MS);
    const check = (): void => {
      if (!ready()) return;
      clearTimeout(timeout);
      ctx.statusChanged.disconnect(check);
      resolve();
    };
    ctx.statusChanged.connect(check);
    check();
  });
}

async function reconnect(panel: NotebookPanel, cell: CodeCell, detail: PanelReconnectDetail): Promise<void> {
  const start = performance.now();
  await ensureKernel(panel);
  const waited = performance.now() - start;
  cell.outputArea.model.clear();
  const code = rehydrateCode(detail.key, detail.record, panelVariable(cell.model.sharedModel.getSource()));
  const reply = await OutputArea.execute(code, cell.outputArea, panel.sessionContext);
  const status = reply?.content.status ?? 'unknown';
  const timing: ReconnectTiming = { key: detail.key, ms: performance.now() - start, waitedForKernelMs: waited, status };
  (window.fooocusWidgetsReconnects ??= []).push(timing);
  console.info(`[fooocus-widgets] reconnected ${detail.key}: ${status} in ${timing.ms.toFixed(0)} ms`);
  if (status !== 'ok') throw new Error(`the kernel could not rebuild the panel (${status})`);
}

function attach(panel: NotebookPanel, seen: WeakSet<NotebookPanel>): void {
  if (seen.has(panel)) return;
  seen.add(panel);
  const listeners = new Set<(status: KernelStatus) => void>();
  const broadcast = (): void => {
    const status = kernelStatus(panel);
    for (const listener of listeners) listener(status);
  };
  panel.sessionContext.statusChanged.connect(broadcast);
  panel.sessionContext.kernelChanged.connect(broadcast);

  panel.node.addEventListener(PANEL_READY_EVENT, (ev: Event) => {
    const detail = (ev as CustomEvent<PanelReadyDetail>).detail;
    ev.preventDefault(); // tells the panel that the extension is here
    detail.notebookPath = panel.context.path;
    detail.saved = readMetadata(panel).panels[detail.key];
    detail.onKernelStatus = callback => {
      listeners.add(callback);
      callback(kernelStatus(panel));
      return () => listeners.delete(callback);
    };
  });

  panel.node.addEventListener(PANEL_STATE_EVENT, (ev: Event) => {
    const { key, record } = (ev as CustomEvent<PanelStateDetail>).detail;
    if (typeof key === 'string' && isRecord(record)) writeRecord(panel, key, record);
  });

  panel.node.addEventListener(PANEL_RECONNECT_EVENT, (ev: Event) => {
    const detail = (ev as CustomEvent<PanelReconnectDetail>).detail;
    const cell = findCodeCell(panel, ev.target);
    if (!cell || typeof detail.key !== 'string' || !isRecord(detail.record)) return;
    ev.preventDefault(); // synchronously, before any await: the panel reads it as "handled"
    writeRecord(panel, detail.key, detail.record);
    reconnect(panel, cell, detail).catch((err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      console.error('[fooocus-widgets] reconnect failed', err);
      detail.done?.(false, `Reconnect failed: ${why}. Run this cell again: your settings are saved.`);
    });
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
