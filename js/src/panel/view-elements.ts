/**
 * The elements of a panel's views, in the order they were rendered, as the places its DOM events
 * start from. The JupyterLab extension answers an event synchronously by cancelling it; a view in
 * a detached or other area of the page cannot reach the extension, so an event nobody answered is
 * dispatched again from the next view. The element that answered last is tried first next time.
 */

export class ViewElements {
  private readonly elements: HTMLElement[] = [];
  private answering: HTMLElement | null = null;

  get size(): number {
    return this.elements.length;
  }

  /** Register a view's element; returns its removal. */
  add(element: HTMLElement): () => void {
    this.elements.push(element);
    return () => {
      const at = this.elements.indexOf(element);
      if (at >= 0) this.elements.splice(at, 1);
      if (this.answering === element) this.answering = null;
    };
  }

  /**
   * Dispatch a cancelable, bubbling event from each element in turn until one is answered
   * (cancelled). True when one was; its element is tried first next time.
   */
  ask<T>(name: string, detail: T): boolean {
    for (const element of this.order()) {
      const handled = !element.dispatchEvent(new CustomEvent(name, { bubbles: true, cancelable: true, detail }));
      if (handled) {
        this.answering = element;
        return true;
      }
    }
    return false;
  }

  /**
   * Dispatch a bubbling event that nobody answers (a state update) once: from the element that
   * answered last when it is still on the page, else from the first one that is.
   */
  tell<T>(name: string, detail: T): void {
    const element = this.order().find(el => el.isConnected);
    element?.dispatchEvent(new CustomEvent(name, { bubbles: true, cancelable: true, detail }));
  }

  private order(): HTMLElement[] {
    const first = this.answering;
    return first ? [first, ...this.elements.filter(el => el !== first)] : [...this.elements];
  }
}
