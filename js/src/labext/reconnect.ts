/**
 * Reconnect, one panel: rebuilds the panel in its own cell's output with everything the user had
 * (the record and the cell's source passed as data to `rehydrate`, which binds the cell's names
 * again) and records how long it took as User Timing entries (see ./timing); and finds the
 * notebook's panels whose kernel connection is gone. ./reconnect-all makes sure the notebook has a
 * running kernel and brings them all back, one after another, with one click.
 */

import type { CodeCell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { OutputArea } from '@jupyterlab/outputarea';
import { rehydrateCode, type SavedRecord } from '../common/record';
import { NotebookClosedError } from './kernel';
import type { ReconnectTimer } from './timing';

/** The code cell of `panel` whose output holds `target` (the element that sent the event). */
export function findCodeCell(panel: Pick<NotebookPanel, 'content'>, target: EventTarget | null): CodeCell | null {
  if (!(target instanceof Node)) return null;
  for (const cell of panel.content.widgets) {
    if (cell.model.type === 'code' && cell.node.contains(target)) return cell as CodeCell;
  }
  return null;
}

/**
 * Run the rehydrate call for the panel `key` in `cell` (the kernel must be ready: see
 * `ensureKernel`); `timer` was started when this panel's reconnect began. Throws when the kernel
 * could not rebuild the panel, or `NotebookClosedError` when `signal` aborted first.
 *
 * It runs through the cell's output area, not as a run of the cell (`CodeCell.execute`): a run of
 * the cell would repeat everything else the cell does. This is safe with real-time collaboration:
 * only the window that won the claim (./claim) runs it, its output reaches the other windows
 * through the shared document like any run's, and the `[*]` hang once seen there came from the
 * kernel connection (replies lost after a restart, ./reply-watch), whichever way code was run.
 */
export async function rehydrateInCell(
  panel: NotebookPanel,
  cell: CodeCell,
  key: string,
  record: SavedRecord,
  timer: ReconnectTimer,
  signal: AbortSignal
): Promise<void> {
  if (signal.aborted) throw new NotebookClosedError();
  cell.outputArea.model.clear();
  // the kernel reads the cell's source (as data) to bind the names the cell bound: `panel`, `fw`
  const code = rehydrateCode(key, record, cell.model.sharedModel.getSource());
  const reply = await OutputArea.execute(code, cell.outputArea, panel.sessionContext);
  const status = reply?.content.status ?? 'unknown';
  const { entry, detail: timing } = timer.finish(status);
  console.info(
    `[fooocus-widgets] reconnected ${key}: ${status} in ${entry.duration.toFixed(0)} ms ` +
      `(${timing.waitedForKernelMs.toFixed(0)} ms waiting for the kernel)`
  );
  if (status !== 'ok') throw new Error(`the kernel could not rebuild the panel (${status})`);
}

/** A panel shown in the notebook whose kernel connection is gone. */
export interface DeadPanel {
  key: string;
  cell: CodeCell;
}

/** Is the panel root `root` a dead view: inside an output ipywidgets marked disconnected, or with
 *  its Reconnect bar showing (the panel's own verdict: `data-state` other than "live")? */
export function isDeadRoot(root: Element): boolean {
  if (root.closest('.jupyter-widgets-disconnected')) return true;
  const bar = root.querySelector<HTMLElement>('[data-fw="connection"]');
  return !!bar && bar.dataset.state !== undefined && bar.dataset.state !== 'live';
}

/** Does `cell`'s output show a dead view of the panel `key`? */
export function showsDeadPanel(cell: CodeCell, key: string): boolean {
  for (const root of cell.node.querySelectorAll('[data-fw-panel]')) {
    if (root.getAttribute('data-fw-panel') === key && isDeadRoot(root)) return true;
  }
  return false;
}

/**
 * Every panel of the notebook that shows a dead view, in notebook order, each key once (a panel
 * shown in two cells is rebuilt in the first). Only cells attached to the page are seen.
 */
export function findDeadPanels(panel: Pick<NotebookPanel, 'content'>): DeadPanel[] {
  const found: DeadPanel[] = [];
  const keys = new Set<string>();
  for (const cell of panel.content.widgets) {
    if (cell.model.type !== 'code') continue;
    for (const root of cell.node.querySelectorAll('[data-fw-panel]')) {
      const key = root.getAttribute('data-fw-panel');
      if (!key || keys.has(key) || !isDeadRoot(root)) continue;
      keys.add(key);
      found.push({ key, cell: cell as CodeCell });
    }
  }
  return found;
}
