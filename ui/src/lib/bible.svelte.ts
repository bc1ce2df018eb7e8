// What the editors and the Bible tab share: the open project whose names are underlined, the entry a
// clicked mention asks for, a counter that changes whenever the bible does (so mentions refresh), and
// the requests the Write view's commands make of the Bible tab (it may not be on screen yet, so a
// request waits until the tab takes it).
class BibleState {
  projectId = $state<number | null>(null);
  /** The entry a clicked mention asked to open; the Write view shows the Bible tab for it. */
  focusEntry = $state<number | null>(null);
  focusRequest = $state(0);
  /** Bumped when an entry is saved or deleted. */
  version = $state(0);
  /** Text to draft a new entry from (Ctrl+Shift+B), until the Bible tab takes it. */
  draftRequest = $state<string | null>(null);
  /** A continuity check asked for from the command palette, until the Bible tab takes it. */
  checkRequest = $state(false);
  /** Asks for the Bible tab without an entry (its shortcut). */
  showRequest = $state(0);

  open(entryId: number) {
    this.focusEntry = entryId;
    this.focusRequest++;
  }

  show() {
    this.showRequest++;
  }

  draft(selection: string) {
    this.draftRequest = selection;
    this.showRequest++;
  }

  check() {
    this.checkRequest = true;
    this.showRequest++;
  }
}

export const bible = new BibleState();
