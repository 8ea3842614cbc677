/**
 * The lines under the prompt that report to the user: the error area (dismissable), the passing
 * notice, and the banner that offers to resume a batch a dying kernel interrupted.
 */

import type { PanelActions } from './actions';
import type { Binder } from './bind';
import { h } from './dom';

/** The last problem, as text; hidden when there is none. */
export function errorArea(b: Binder): HTMLElement {
  const text = h('span', 'fw-error-text');
  const dismiss = h('button', 'fw-dismiss', { type: 'button', 'aria-label': 'Dismiss' }, ['×']);
  const box = h('div', 'fw-error', { role: 'alert', 'data-fw': 'error' }, [text, dismiss]);
  const show = (): void => {
    text.textContent = b.model.get('error');
    box.hidden = !b.model.get('error');
  };
  b.listen(dismiss, 'click', () => b.commit('error', ''));
  b.watch('error', show);
  show();
  return box;
}

/** A passing remark from the kernel (a style left out, parameters restored). */
export function noticeArea(b: Binder): HTMLElement {
  const notice = h('div', 'fw-notice', { 'data-fw': 'notice', role: 'status' });
  const show = (): void => {
    notice.textContent = b.model.get('notice') ?? '';
    notice.hidden = !notice.textContent;
  };
  b.watch('notice', show);
  show();
  return notice;
}

/** "A batch was interrupted…" with Resume and Discard, shown when the kernel died mid-batch. */
export function resumeBanner(b: Binder, actions: PanelActions): HTMLElement {
  const text = h('span', 'fw-resume-text');
  const resume = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'resume' }, ['Resume']);
  const discard = h('button', 'fw-button fw-small', { type: 'button', 'data-fw': 'discard-pending' }, ['Discard']);
  const banner = h('div', 'fw-resume', { 'data-fw': 'resume-banner', role: 'status' }, [text, resume, discard]);
  b.listen(resume, 'click', () => actions.resume());
  b.listen(discard, 'click', () => actions.discardPending());
  const show = (): void => {
    const p = b.model.get('pending') ?? {};
    const total = p.seeds?.length ?? 0;
    const done = p.done ?? 0;
    banner.hidden = b.model.get('busy') || total === 0 || done >= total;
    text.textContent = `A batch was interrupted after ${done} of ${total} images. Resume the remaining ${total - done} with the same seeds?`;
  };
  b.watch('pending', show);
  b.watch('busy', show);
  show();
  return banner;
}
