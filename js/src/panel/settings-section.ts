/**
 * The Settings section: performance, aspect ratio, image number, output format, negative prompt
 * and seed, with the choices and bounds the schema gives.
 */

import type { PanelSchema } from '../common/schema';
import type { Binder } from './bind';
import { seedControl } from './controls';
import { field, h, sizeLabel } from './dom';
import { keepEnter, numberInput, section, selectInput } from './form';
import { choiceField, numberField, textMaxLength, wholeTextField } from './schema';

export function settingsSection(b: Binder, schema: PanelSchema): HTMLElement {
  const performances = choiceField(schema, 'performance');
  const performance = selectInput('performance');
  b.select('performance', performance, () => performances);

  const ratios = choiceField(schema, 'aspect_ratio');
  const ratio = selectInput('aspect-ratio');
  b.select('aspect_ratio', ratio, () => ratios, sizeLabel);

  const count = numberInput('image-number');
  b.number('image_number', count, numberField(schema, 'image_number'), 'image number');

  const formats = choiceField(schema, 'output_format');
  const format = selectInput('output-format');
  b.select('output_format', format, () => formats);

  const negative = h('textarea', 'fw-input fw-negative', {
    rows: '2', 'data-fw': 'negative-prompt', placeholder: 'Describe what you do not want to see'
  });
  b.text('negative_prompt', negative, { maxLength: textMaxLength(schema, 'negative_prompt'), label: 'negative prompt' });
  keepEnter(b, negative);

  return section('Settings', true, [
    field('Performance', performance),
    field('Aspect ratio', ratio),
    h('div', 'fw-grid2', {}, [field('Image number', count), field('Output format', format)]),
    field('Negative prompt', negative),
    seedControl(b, wholeTextField(schema, 'seed'))
  ], 'settings');
}
