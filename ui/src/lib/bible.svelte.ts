// What the editors and the Bible tab share: the open project whose names are underlined, the entry a
// clicked mention asks for, and a counter that changes whenever the bible does (so mentions refresh).
class BibleState {
  projectId = $state<number | null>(null);
  /** The entry a clicked mention asked to open; the Write view shows the Bible tab for it. */
  focusEntry = $state<number | null>(null);
  focusRequest = $state(0);
  /** Bumped when an entry is saved or deleted. */
  version = $state(0);

  open(entryId: number) {
    this.focusEntry = entryId;
    this.focusRequest++;
  }
}

export const bible = new BibleState();
