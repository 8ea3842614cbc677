/**
 * The panel's layout: the main column (gallery, progress, prompt and buttons, connection bar,
 * resume banner, notice, errors) beside the side column of sections (Settings, Styles, Models,
 * Advanced), all inside one root element that carries the panel's key.
 */

import type { PanelSchema } from '../common/schema';
import type { PanelActions } from './actions';
import { advancedSection } from './advanced-section';
import type { Binder } from './bind';
import { stylePicker } from './controls';
import { h } from './dom';
import { section } from './form';
import { gallery, progressBar } from './gallery';
import type { ImageFetcher } from './image-fetcher';
import { modelsSection } from './models-section';
import { promptRow, type RunButtons } from './prompt-row';
import { settingsSection } from './settings-section';
import { errorArea, noticeArea, resumeBanner } from './status-areas';

export interface LayoutParts {
  b: Binder;
  schema: PanelSchema;
  actions: PanelActions;
  fetcher: ImageFetcher;
  /** The view's Reconnect bar (./connection-bar). */
  connectionBar: HTMLElement;
}

export interface PanelLayout {
  /** The panel's root (`data-fw-panel`): ipywidgets owns the view element's style, so the
   *  panel styles this inner root instead. */
  root: HTMLElement;
  buttons: RunButtons;
  dispose(): void;
}

export function buildLayout({ b, schema, actions, fetcher, connectionBar }: LayoutParts): PanelLayout {
  const prompt = promptRow(b, schema, actions);
  const root = h('div', 'fw-panel', { 'data-fw-panel': b.model.get('key') });
  const results = gallery(b, () => root, fetcher, file => actions.loadImage(file));
  const main = h('div', 'fw-main', {}, [
    results.element,
    progressBar(b),
    prompt.element,
    connectionBar,
    resumeBanner(b, actions),
    noticeArea(b),
    errorArea(b)
  ]);
  const side = h('div', 'fw-side', {}, [
    settingsSection(b, schema),
    section('Styles', true, [stylePicker(b)], 'styles'),
    modelsSection(b, schema, actions),
    advancedSection(b, schema)
  ]);
  root.append(main, side);
  return { root, buttons: prompt.buttons, dispose: results.dispose };
}
