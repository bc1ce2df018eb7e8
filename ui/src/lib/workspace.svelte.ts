// The Write view's workspace: the projects, the open project's binder tree, what is open on the page
// (a scene, or a chapter or part as one scrolling text), the project's daily progress, and what is done
// to them — opening, creating, switching, importing, exporting and trashing projects (with Undo);
// adding, moving, renaming and trashing binder items (with Undo); the ids open last time. Backend
// calls go through api.ts; what it needs of the screen (saving the page, announcing, focus) it asks
// through `Screen`.
import * as api from './api';
import { app } from './app.svelte';
import { ancestors, byId, kindLabel, subtreeIds, withTotals, type Spot } from './binder';
import { remembered } from './manuscript';
import type {
  BinderNode,
  DayProgress,
  Document,
  Format,
  ImportPreview,
  NewProject,
  NodeKind,
  NodePatch,
  ProjectKind,
  ProjectSummary,
  ProjectTree,
  SceneText,
} from './types';

/** What the workspace asks of the screen that shows it. */
export interface Screen {
  /** Saves every scene on the page; false when a save failed (the error is on screen, retried). */
  flush(): Promise<boolean>;
  /** The page was emptied. */
  closed(): void;
  /** The page shows `list`, freshly opened. */
  opened(list: SceneText[]): void;
  /** The chapter on the page was loaded again (its editors stay as they are). */
  reloaded(list: SceneText[]): void;
  /** Says `text` to a screen reader. */
  announce(text: string): void;
  /** Puts the focus on a binder item. */
  focusNode(id: number): void;
}

/** A scene's editor, as renaming its scene needs it. */
export interface TitledEditor {
  flush(): Promise<boolean>;
  setTitle(title: string): void;
}

export class Workspace {
  projects = $state<ProjectSummary[]>([]);
  tree = $state<ProjectTree | null>(null);
  loaded = $state(false);
  /** The binder item open in the page: a scene, or a chapter or part shown as one scrolling text. */
  openId = $state<number | null>(null);
  mode = $state<'scene' | 'chapter'>('scene');
  /** The scenes on the page (one in scene mode), each with the document it was opened with. */
  scenes = $state<SceneText[]>([]);
  /** Which of them the writer is in (the assistant, inspector and history follow it). */
  active = $state(0);
  progress = $state<DayProgress[]>([]);
  /** A manuscript previewed for import. */
  importPreview = $state<ImportPreview | null>(null);

  nodes = $derived(this.tree?.nodes ?? []);
  project = $derived(this.tree?.project ?? null);
  projectWords = $derived(this.nodes.reduce((n, x) => n + (x.kind === 'scene' ? x.words : 0), 0));
  openNode = $derived(byId(this.nodes, this.openId) ?? null);
  activeScene = $derived(this.scenes[this.active] ?? null);
  /** The scene the writer is in, as the binder has it now. */
  activeNode = $derived(this.activeScene ? (byId(this.nodes, this.activeScene.node.id) ?? this.activeScene.node) : null);
  /** The chapter or part open, or holding the open scene: what "this chapter" exports and toggles to. */
  container = $derived(this.openNode ? (this.openNode.kind === 'scene' ? (byId(this.nodes, this.openNode.parent_id) ?? null) : this.openNode) : null);
  /** Where the open scene sits: "Part One › The Harbour Master". */
  breadcrumb = $derived(
    this.activeNode
      ? ancestors(this.nodes, this.activeNode.id)
          .reverse()
          .map((id) => byId(this.nodes, id)?.title ?? '')
          .join(' › ') || (this.project?.title ?? '')
      : '',
  );
  /** The projects as the switcher lists them, the open one as it stands now. */
  switcherProjects = $derived(
    this.projects.map((p) => (p.id === this.project?.id ? { ...p, words: this.projectWords, title: this.project.title, kind: this.project.kind } : p)),
  );

  private screen: Screen;
  private progressTimer: ReturnType<typeof setTimeout> | undefined;
  /** A document History asked for before the projects were loaded. */
  private pendingDocument: number | null = null;

  constructor(screen: Screen) {
    this.screen = screen;
  }

  label = (kind: NodeKind) => kindLabel(kind, this.project?.kind);

  /** Loads the projects and opens the one open last time (else the first). */
  async start() {
    try {
      await this.loadProjects();
      const last = remembered.project();
      const first = this.projects.find((p) => p.id === last) ?? this.projects[0];
      if (first) await this.openProject(first.id);
    } catch (e) {
      app.error(e);
    } finally {
      this.loaded = true;
    }
    if (this.pendingDocument !== null) void this.openDocument(this.pendingDocument);
    this.pendingDocument = null;
  }

  dispose() {
    clearTimeout(this.progressTimer);
  }

  // --- saving -------------------------------------------------------------------------------------

  /** A save reached the library: the binder's words and title follow. */
  saved(doc: Document, words: number) {
    if (!this.tree) return;
    const next = this.tree.nodes.map((n) => (n.document_id === doc.id ? { ...n, words, title: doc.title } : n));
    this.tree = { ...this.tree, nodes: withTotals(next) };
    this.scheduleProgress();
  }

  private scheduleProgress() {
    clearTimeout(this.progressTimer);
    this.progressTimer = setTimeout(() => void this.loadProgress(), 1500);
  }

  private async loadProgress() {
    if (!this.project) return;
    const id = this.project.id;
    try {
      const days = await api.projectProgress(id, 30);
      if (this.project?.id === id) this.progress = days;
    } catch (e) {
      app.error(e);
    }
  }

  // --- projects -----------------------------------------------------------------------------------

  async loadProjects() {
    this.projects = await api.listProjects();
  }

  async refreshTree() {
    if (!this.project) return;
    this.tree = await api.projectTree(this.project.id);
  }

  closePage() {
    this.openId = null;
    this.scenes = [];
    this.active = 0;
    this.screen.closed();
    app.currentDocumentId = null;
  }

  /** Opens a project on `prefer`, else the item open last time, else its first scene. */
  async openProject(id: number, prefer: number | null = null) {
    if (!(await this.screen.flush())) return;
    try {
      const next = await api.projectTree(id);
      this.closePage();
      this.tree = next;
      this.progress = [];
      remembered.setProject(id);
      void this.loadProgress();
      const target = byId(next.nodes, prefer) ?? byId(next.nodes, remembered.node(id)) ?? next.nodes.find((n) => n.kind === 'scene');
      if (target) await this.open(target.id);
    } catch (e) {
      app.error(e);
    }
  }

  /** Creates a project and opens it; `made` runs once it exists. True when it was created. */
  async createProject(input: NewProject, made: () => void): Promise<boolean> {
    try {
      if (!(await this.screen.flush())) return false;
      const p = await api.createProject(input);
      made();
      await this.loadProjects();
      await this.openProject(p.id);
      app.toast(`“${p.title}” is ready. Add a ${this.label('chapter').toLowerCase()} or a scene to begin.`, 'success');
      return true;
    } catch (e) {
      app.error(e);
      return false;
    }
  }

  /** Saves the open project's settings; `done` runs once they are saved. */
  async saveSettings(input: NewProject & { cloud_context?: boolean }, done: () => void) {
    if (!this.project || !this.tree) return;
    try {
      const p = await api.updateProject(this.project.id, { title: input.title, kind: input.kind, author: input.author, word_goal: input.word_goal, cloud_context: input.cloud_context ?? null });
      this.tree = { ...this.tree, project: p };
      done();
      await this.loadProjects();
      app.toast('Project settings saved.', 'success', undefined, 2500);
    } catch (e) {
      app.error(e);
    }
  }

  async deleteProject() {
    if (!this.project) return;
    const gone = this.project;
    try {
      if (!(await this.screen.flush())) return;
      await api.deleteProject(gone.id);
      this.closePage();
      this.tree = null;
      await this.loadProjects();
      if (this.projects.length) await this.openProject(this.projects[0].id);
      app.toast(
        `“${gone.title}” moved to the trash.`,
        'info',
        {
          label: 'Undo',
          run: async () => {
            try {
              await api.restoreProject(gone.id);
              await this.loadProjects();
              await this.openProject(gone.id);
            } catch (e) {
              app.error(e);
            }
          },
        },
        10_000,
      );
    } catch (e) {
      app.error(e);
    }
  }

  // --- opening --------------------------------------------------------------------------------------

  /** Opens a binder item: a scene on its own, a chapter or part as one scrolling text (the writer in
   *  its scene `scene`, when given). Whatever was on the page is saved first. True when it opened. */
  async open(id: number, scene?: number): Promise<boolean> {
    const node = byId(this.nodes, id);
    if (!node) return false;
    // Never leave a scene whose last words did not reach the library (the error is on screen).
    if (!(await this.screen.flush())) return false;
    try {
      const list: SceneText[] =
        node.kind === 'scene' ? [{ node, document: await api.getDocument(node.document_id ?? -1) }] : await api.chapterScenes(node.id);
      // Anything typed while it loaded still belongs to what was on screen.
      if (!(await this.screen.flush())) return false;
      this.openId = node.id;
      this.mode = node.kind === 'scene' ? 'scene' : 'chapter';
      this.scenes = list;
      this.screen.opened(list);
      const at = scene === undefined ? 0 : list.findIndex((s) => s.node.id === scene);
      this.active = Math.max(0, at);
      app.currentDocumentId = list[this.active]?.document.id ?? null;
      remembered.setNode(node.project_id, node.id);
      return true;
    } catch (e) {
      app.error(e);
      return false;
    }
  }

  /** The chapter on the page again, after its scenes changed in the binder (editors stay as they are). */
  async reloadChapter() {
    if (this.mode !== 'chapter' || this.openId === null) return;
    const keep = this.activeScene?.node.id;
    if (!byId(this.nodes, this.openId)) return this.closePage();
    await this.screen.flush();
    try {
      const list = await api.chapterScenes(this.openId);
      this.screen.reloaded(list);
      this.scenes = list;
      this.active = Math.max(0, list.findIndex((s) => s.node.id === keep));
      app.currentDocumentId = list[this.active]?.document.id ?? null;
    } catch (e) {
      app.error(e);
    }
  }

  /** The writer is in the scene `index` on the page. */
  activate(index: number) {
    this.active = index;
    app.currentDocumentId = this.scenes[index]?.document.id ?? null;
  }

  /** A document opened from History: its scene, in whichever project holds it. */
  async openDocument(documentId: number) {
    const here = this.nodes.find((n) => n.document_id === documentId);
    if (here) {
      await this.open(here.id);
      return;
    }
    try {
      for (const p of this.projects) {
        if (p.id === this.project?.id) continue;
        const t = await api.projectTree(p.id);
        const hit = t.nodes.find((n) => n.document_id === documentId);
        if (hit) return this.openProject(p.id, hit.id);
      }
      app.toast('That text is no longer in any project (it may be in the trash).', 'info');
    } catch (e) {
      app.error(e);
    }
  }

  /** Opens a document now, or once the projects are loaded. */
  openDocumentWhenLoaded(documentId: number) {
    if (this.loaded) void this.openDocument(documentId);
    else this.pendingDocument = documentId;
  }

  // --- the binder ---------------------------------------------------------------------------------

  private defaultTitle(kind: NodeKind): string {
    if (kind === 'scene') return 'Untitled scene';
    return `${this.label(kind)} ${this.nodes.filter((n) => n.kind === kind).length + 1}`;
  }

  /** Adds a part, chapter or scene at `spot`. A new scene in the chapter on the page joins it there,
   *  the writer in it (`joined`). Null when nothing was added (the error is on screen). */
  async addItem(kind: NodeKind, spot: Spot): Promise<{ node: BinderNode; joined: boolean } | null> {
    if (!this.project) return null;
    try {
      const node = await api.addNode({ project_id: this.project.id, parent_id: spot.parentId, kind, title: this.defaultTitle(kind), index: spot.index });
      await this.refreshTree();
      this.screen.announce(`${this.label(kind)} added.`);
      if (kind === 'scene' && this.mode === 'chapter' && this.openId !== null && subtreeIds(this.nodes, this.openId).has(node.id)) {
        await this.reloadChapter();
        this.activate(Math.max(0, this.scenes.findIndex((s) => s.node.id === node.id)));
        return { node, joined: true };
      }
      return { node, joined: false };
    } catch (e) {
      app.error(e);
      return null;
    }
  }

  moveItem = async (node: BinderNode, spot: Spot) => {
    try {
      await api.moveNode(node.id, spot.parentId, spot.index);
      await this.refreshTree();
      const parent = byId(this.nodes, spot.parentId);
      const siblings = this.nodes.filter((n) => n.parent_id === spot.parentId).length;
      this.screen.announce(`Moved “${node.title}” ${parent ? `into “${parent.title}”` : 'to the top level'}, ${Math.min(spot.index, siblings - 1) + 1} of ${siblings}.`);
      await this.reloadChapter();
    } catch (e) {
      app.error(e);
      await this.refreshTree().catch(() => {});
    }
  };

  /** Renames an item; a scene open on the page (`editor`) saves first, so its next save carries the
   *  new title. */
  async renameItem(node: BinderNode, title: string, editor: TitledEditor | null) {
    try {
      if (editor) await editor.flush();
      await api.updateNode(node.id, { title });
      editor?.setTitle(title);
      await this.refreshTree();
    } catch (e) {
      app.error(e);
    }
  }

  updateItem = async (node: BinderNode, patch: NodePatch) => {
    if (!this.tree) return;
    try {
      const updated = await api.updateNode(node.id, patch);
      this.tree = { ...this.tree, nodes: this.tree.nodes.map((n) => (n.id === updated.id ? { ...updated, words: n.words } : n)) };
    } catch (e) {
      app.error(e);
    }
  };

  /** Trashes an item and what it holds, with Undo; `binderHadFocus` keeps the binder's focus on a
   *  neighbour. */
  async deleteItem(node: BinderNode, binderHadFocus: boolean) {
    const nodes = this.nodes;
    const inside = subtreeIds(nodes, node.id);
    const wasOpen = this.openId !== null && inside.has(this.openId) ? this.openId : null;
    const touchesPage = this.scenes.some((s) => inside.has(s.node.id));
    // Where the binder's focus goes: the next item outside what goes, else the one before.
    const at = nodes.findIndex((n) => n.id === node.id);
    const neighbour = nodes.slice(at + 1).find((n) => !inside.has(n.id)) ?? nodes.slice(0, at).reverse().find((n) => !inside.has(n.id));
    try {
      // Its last words go with it, so Undo brings them back.
      if (touchesPage && !(await this.screen.flush())) return;
      await api.deleteNode(node.id);
      await this.refreshTree();
      if (wasOpen !== null) {
        this.closePage();
        const next = neighbour?.kind === 'scene' ? neighbour : (this.nodes.find((n) => n.kind === 'scene') ?? null);
        if (next) await this.open(next.id);
      } else if (touchesPage) {
        await this.reloadChapter();
      }
      if (binderHadFocus && neighbour) this.screen.focusNode(neighbour.id);
      app.toast(
        `“${node.title}” moved to the trash.`,
        'info',
        {
          label: 'Undo',
          run: async () => {
            try {
              await api.restoreNode(node.id);
              await this.refreshTree();
              if (wasOpen !== null) await this.open(wasOpen);
              else await this.reloadChapter();
              this.screen.focusNode(node.id);
            } catch (e) {
              app.error(e);
            }
          },
        },
        10_000,
      );
    } catch (e) {
      app.error(e);
    }
  }

  // --- export and import --------------------------------------------------------------------------

  exportTo = async (nodeId: number | null, format: Format) => {
    if (!this.project) return;
    try {
      await this.screen.flush();
      const path = await api.exportProject(this.project.id, nodeId, format);
      if (path) app.toast(`Exported to ${path}`, 'success', undefined, 8000);
    } catch (e) {
      app.error(e);
    }
  };

  /** A manuscript to preview: dropped on the window (`path`), or picked in the backend's dialog. */
  async startImport(path: string | null = null) {
    try {
      const preview = await api.importManuscript(path);
      if (preview) this.importPreview = preview;
    } catch (e) {
      app.error(e);
    }
  }

  acceptImport = async (title: string, kind: ProjectKind) => {
    if (!this.importPreview) return;
    try {
      const p = await api.acceptImport(this.importPreview.token, title, kind);
      this.importPreview = null;
      await this.loadProjects();
      await this.openProject(p.id);
      app.toast(`Imported “${p.title}”.`, 'success');
    } catch (e) {
      app.error(e);
    }
  };
}
