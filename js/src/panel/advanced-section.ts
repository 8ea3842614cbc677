/**
 * The Advanced section (closed at first): guidance scale, sampler, scheduler, CLIP skip and
 * memory mode, with the bounds and choices the schema gives.
 */

import type { PanelSchema } from '../common/schema';
import type { Binder } from './bind';
import { field, h } from './dom';
import { numberInput, rangeInput, section, selectInput } from './form';
import { choiceField, numberField } from './schema';

export function advancedSection(b: Binder, schema: PanelSchema): HTMLElement {
  const guidanceRange = rangeInput('Guidance scale slider');
  const guidance = numberInput('guidance-scale');
  b.number('guidance_scale', guidance, numberField(schema, 'guidance_scale'), 'guidance scale', guidanceRange);

  const samplers = choiceField(schema, 'sampler');
  const sampler = selectInput('sampler');
  b.select('sampler', sampler, () => samplers);

  const schedulers = choiceField(schema, 'scheduler');
  const scheduler = selectInput('scheduler');
  b.select('scheduler', scheduler, () => schedulers);

  const clipSkip = numberInput('clip-skip');
  b.number('clip_skip', clipSkip, numberField(schema, 'clip_skip'), 'CLIP skip');

  const memoryModes = choiceField(schema, 'memory_mode');
  const memoryMode = selectInput('memory-mode');
  b.select('memory_mode', memoryMode, () => memoryModes);

  return section('Advanced', false, [
    field('Guidance scale', h('div', 'fw-row', {}, [guidanceRange, guidance])),
    h('div', 'fw-grid2', {}, [field('Sampler', sampler), field('Scheduler', scheduler)]),
    h('div', 'fw-grid2', {}, [field('CLIP skip', clipSkip), field('Memory mode', memoryMode)])
  ], 'advanced');
}
