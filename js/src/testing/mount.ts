/**
 * Renders the panel's real view on a `FakeModel` for the front end's unit tests, and finds its
 * parts by their `data-fw` hooks. One place for what every view test needs.
 */

import type { RenderProps } from '@anywidget/types';
import type { PanelModel } from '../panel/model';
import widget from '../panel/index';
import { defaultValues, FakeModel } from './fake-model';

/** A rendered view: its model, its element (in the document) and the view's cleanup. */
export interface MountedPanel {
  model: FakeModel;
  el: HTMLElement;
  cleanup: () => void;
}

/** Render a view of a fresh model holding the defaults with `overrides`. */
export function mountPanel(overrides: Partial<PanelModel> = {}): MountedPanel {
  const model = new FakeModel(defaultValues(overrides));
  const el = document.createElement('div');
  document.body.append(el);
  const cleanup = widget.render({ model, el } as unknown as RenderProps<PanelModel>) as () => void;
  return { model, el, cleanup };
}

/** The element of hook `name` under `root`; throws naming the hook when there is none. */
export function hook<T extends HTMLElement = HTMLElement>(root: ParentNode, name: string): T {
  const found = root.querySelector<T>(`[data-fw="${name}"]`);
  if (!found) throw new Error(`no [data-fw="${name}"]`);
  return found;
}
