"""The main window: canvas in the middle, palette and inspector docks, menus, toolbar, files.

Every edit goes through the controller (so through the undo stack); the window only wires
gestures, menus and files to it. Dialogs the tests must answer are methods that can be
replaced on the instance: :meth:`MainWindow.ask_unsaved`, :meth:`MainWindow.show_error`,
:meth:`MainWindow.ask_open_path`, :meth:`MainWindow.ask_save_path`,
:meth:`MainWindow.ask_export_path` and :meth:`MainWindow.ask_group_name`.
"""

from __future__ import annotations

import atexit
from pathlib import Path

from PySide6.QtCore import QPointF, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QUndoView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

import resources
from engine import NUMBER, DocumentError, Graph
from gui import style
from gui.canvas.bridge import DocumentBridge
from gui.canvas.controller import Controller
from gui.canvas.items import ROUTE_LIMIT
from gui.canvas.minimap import MinimapDock
from gui.canvas.scene import WIRE_LABEL_LIMIT, GraphScene
from gui.canvas.view import GraphView
from gui.panels.inspector import Inspector
from gui.panels.palette import Palette
from gui.shell import files
from gui.shell.entered import SEP, CanvasArea
from gui.shell.screen_fit import resize_to_screen
from gui.shell.session import DocumentSession, Recovery, pending_recoveries

APP_NAME = "gradcanvas"
NARROW_WINDOW = 900  # below this width the palette shares the inspector's column (a tab)
SMALL_WINDOW = 1100  # below this width the docks start narrower than their defaults
CANVAS_SHARE = 0.6  # of the window's width, kept for the canvas however small the window
MIN_DOCK_WIDTH = 60  # a side column narrower than this shows nothing readable
DOCK_SEPARATORS = 6  # px per side column: the splitter handle between it and the canvas
DEFAULT_SIZE = QSize(1280, 800)

_GESTURES = [
    ("Add a node", "Drag from the palette, double-click a palette entry, or press Tab / right-click"),
    ("Connect", "Drag from an output port to an input port (either way round)"),
    ("Replace a wire", "Drop a new wire on a used input"),
    ("Disconnect", "Drag a wire off its input"),
    ("Edit a number", "Double-click it, or use the inspector (type, or drag the scrub slider)"),
    ("Pan / zoom", "Middle-drag or drag the background with Space / mouse wheel"),
    ("Box-select", "Drag on the empty canvas"),
]


def _clear_clipboard() -> None:
    app = QGuiApplication.instance()
    if app is not None:
        app.clipboard().clear()


_exit_hook = []


def _clear_clipboard_at_exit() -> None:
    """PySide6 6.12 crashes at interpreter exit when the clipboard still owns QMimeData put
    there from Python (seen offscreen: segfault after the last line of a script). Clearing the
    clipboard in an atexit hook, while the application still exists, avoids it."""
    if not _exit_hook:
        _exit_hook.append(True)
        atexit.register(_clear_clipboard)


def about_version() -> str:
    """"version 0.1.0 · Qt 6.x · Python 3.x": what a bug report needs, in the About box."""
    import platform

    from PySide6 import __version__ as pyside_version

    from engine import __version__

    return (f"<span style='font-weight:normal; font-size:10pt'>version {__version__} · PySide6 "
            f"{pyside_version} · Python {platform.python_version()}</span>")


def icon(name: str) -> QIcon:
    """A bundled icon by file stem (resources/icons/NAME.svg); empty if missing."""
    path = resources.ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def show_overflow(toolbar: QToolBar) -> None:
    """Make a toolbar's overflow button (») visible on the dark theme: Fusion draws it dark
    on dark, so on a narrow window the actions that did not fit seemed gone. Qt resets its
    icon when the toolbar turns, so it is set again then."""
    button = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    if button is None:
        return

    def mark(*_):
        button.setIcon(icon("more"))
        button.setToolTip("More: the actions that do not fit in this width")

    mark()
    toolbar.orientationChanged.connect(mark)


class MainWindow(QMainWindow):
    """The gradcanvas window on a copy of ``document`` (a Graph) or, by default, the built-in
    example: e = (a*4 + 3) * (a + 2) at a = 3, already evaluated, so a.grad = 35 shows at once.

    The window owns its document: the caller's Graph is copied, so nothing can edit the open
    document behind the undo stack's back; read the result from :attr:`document`.

    ``path`` is where ``document`` was loaded from (title, Save, recent files);
    ``use_settings=False`` neither reads nor writes window state or recent files (screenshots);
    ``experiments=False`` leaves out the Learn tools of :mod:`gui.learn.experiment`.
    """

    def __init__(
        self,
        document: Graph | None = None,
        *,
        path=None,
        use_settings: bool = True,
        experiments: bool = True,
        parent=None,
        own_document: bool = False,
    ):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self._use_settings = use_settings
        doc_name = "Untitled"
        self._fitted_once = False
        self._palette_tabbed = False  # the palette was made a tab by _share_width, not the user
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self._share_width)
        self.last_error: str | None = None
        opened_from = Path(path).resolve() if path is not None and document is not None else None
        if document is None:
            document = files.builtin_document()
            doc_name = f"{files.DEFAULT_EXAMPLE}.json (example)"
        elif isinstance(document, Graph):
            if not own_document:  # gui.show() hands over a graph it just built: no second copy
                document = document.copy()
        else:
            raise TypeError(f"MainWindow(document=...) takes a Graph, not {type(document).__name__}")

        _clear_clipboard_at_exit()
        self.bridge = DocumentBridge(document, self)
        self.undo_stack = QUndoStack(self)
        self.controller = Controller(self.bridge, self.undo_stack, self)
        self.session = DocumentSession(self.bridge, self.undo_stack, use_settings=use_settings, parent=self)
        self.session.name = doc_name
        self.scene = GraphScene(self.bridge, self, controller=self.controller)
        self.view = GraphView(self.scene, self)
        self.view.setObjectName("canvas")
        self.canvas_area = CanvasArea(self.bridge, self.view, self.controller, self)
        self.canvas_area.whereChanged.connect(self._say_where)
        self.view.enterRequested.connect(self.enter_instance)
        self.setCentralWidget(self.canvas_area)

        self.palette = Palette(self)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.palette)
        self.inspector = Inspector(self.controller, self.scene, self)
        self.addDockWidget(Qt.RightDockWidgetArea, self.inspector)
        self.history = QDockWidget("Undo history", self)
        self.history.setObjectName("historyDock")
        undo_view = QUndoView(self.undo_stack, self.history)
        undo_view.setEmptyLabel("<opened document>")
        self.history.setWidget(undo_view)
        self.addDockWidget(Qt.RightDockWidgetArea, self.history)
        self.history.hide()
        self.overview = MinimapDock(self.view, self)
        self.addDockWidget(Qt.RightDockWidgetArea, self.overview)
        self.overview.auto_show()
        self.resizeDocks([self.overview], [170], Qt.Vertical)  # the inspector keeps the room
        self.resizeDocks([self.palette, self.inspector], [240, 330], Qt.Horizontal)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()

        self.palette.opActivated.connect(self.add_at_view_centre)
        self.view.needsWidth.connect(self._make_room_for_document)
        self.palette.renameDefinition.connect(self.rename_definition)
        self.palette.removeDefinition.connect(self.controller.remove_definition)
        for sig in (self.bridge.definitionChanged, self.bridge.replaced, self.bridge.reset):
            sig.connect(lambda *_: self.palette.set_definitions(self.document.definitions))
        self.palette.set_definitions(self.document.definitions)
        self.controller.message.connect(self.show_message)
        self.bridge.evaluated.connect(self._update_output_label)
        self.bridge.replaced.connect(self._update_output_label)
        self.session.changed.connect(self._update_title)
        self.undo_stack.indexChanged.connect(self._on_history_moved)
        self.undo_stack.canUndoChanged.connect(self.act_undo.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.act_redo.setEnabled)
        self.scene.selectionChanged.connect(self._update_selection_actions)

        self.setWindowIcon(icon("gradcanvas"))
        self.resize(self._default_size())
        self.setDockNestingEnabled(True)
        self.experiment = None  # the Learn tools, once installed
        self.training = None  # the training tools (gui.learn.training), once installed
        self.higher = None  # NaN origins, gradient health, backward graph, second order (gui.learn.higher)
        if experiments:  # step mode, chain rule, checks, forward mode, descent, code in/out
            from gui.learn.experiment import install
            from gui.learn.training import install as install_training

            install(self)
            install_training(self)
            from gui.learn.higher import install as install_higher

            install_higher(self)
        self._restore_settings()
        self.scene.set_show_wire_grads(self.act_wire_grads.isChecked())
        self.bridge.replaced.connect(self._say_wire_labels_limited)
        self.bridge.recompute()
        self._say_wire_labels_limited()
        self._update_title()
        self._update_output_label()
        self._update_selection_actions()
        self.act_undo.setEnabled(self.undo_stack.canUndo())
        self.act_redo.setEnabled(self.undo_stack.canRedo())
        if opened_from is not None:
            self.session.set_document(opened_from, opened_from.name)
            self._remember(opened_from)

    # ------------------------------------------------------------------ test-facing names

    @property
    def document(self) -> Graph:
        """The open document, owned by this window. Read it freely; an edit made on it
        directly (not through the canvas) clears the undo history, which no longer applies."""
        return self.bridge.graph

    @property
    def path(self) -> Path | None:
        """Where the document was opened from or last saved to; None for new documents and examples."""
        return self.session.path

    def is_modified(self) -> bool:
        return self.session.is_modified()

    # ------------------------------------------------------------------ actions

    def _action(self, text, slot, shortcut=None, tip="", icon_name=None, checkable=False, canvas=False):
        act = QAction(text, self)
        if icon_name:
            act.setIcon(icon(icon_name))
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            act.setShortcuts([QKeySequence(k) for k in keys])
        shown = act.shortcut().toString(QKeySequence.NativeText)
        act.setToolTip(f"{tip or text.rstrip('…')}  ({shown})" if shown else (tip or text.rstrip("…")))
        act.setStatusTip(tip or text.rstrip("…"))
        act.setCheckable(checkable)
        if canvas:
            # Plain keys (F, L, Delete) and clipboard keys act on the canvas only, never on
            # text typed into the palette filter or the inspector.
            act.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            self.view.addAction(act)
        if slot is not None:
            act.triggered.connect(slot)
        return act

    def _make_actions(self):
        a = self._action
        K = QKeySequence
        self.act_new = a("&New", self.new_document, K.New, "Start an empty document", "new")
        self.act_open = a("&Open…", self._on_open, K.Open, "Open a gradcanvas document", "open")
        self.act_save = a("&Save", self._on_save, K.Save, "Save the document", "save")
        self.act_save_as = a("Save &As…", self._on_save_as, "Ctrl+Shift+S",
                             "Save the document under a new name")
        self.act_export_png = a("Export &PNG…", lambda: self._on_export(".png"), None,
                                "Save the annotated canvas as a PNG picture", "export")
        self.act_export_svg = a("Export S&VG…", lambda: self._on_export(".svg"), None,
                                "Save the annotated canvas as an SVG drawing")
        self.act_quit = a("&Quit", self.close, "Ctrl+Q", "Close gradcanvas")
        self.act_quit.setMenuRole(QAction.QuitRole)

        self.act_undo = a("&Undo", self.undo_stack.undo, K.Undo, "Undo the last edit", "undo")
        self.act_redo = a("&Redo", self.undo_stack.redo, ["Ctrl+Shift+Z", "Ctrl+Y"],
                          "Redo the edit undone last", "redo")
        self.undo_stack.undoTextChanged.connect(
            lambda t: self.act_undo.setStatusTip(f"Undo {t}" if t else "Nothing to undo"))
        self.undo_stack.redoTextChanged.connect(
            lambda t: self.act_redo.setStatusTip(f"Redo {t}" if t else "Nothing to redo"))
        self.act_cut = a("Cu&t", self.cut, K.Cut, "Copy the selected nodes and delete them", "cut",
                         canvas=True)
        self.act_copy = a("&Copy", self.copy, K.Copy, "Copy the selected nodes and the wires between them",
                          "copy", canvas=True)
        self.act_paste = a("&Paste", self.paste, K.Paste, "Paste copied nodes at the cursor", "paste",
                           canvas=True)
        self.act_duplicate = a("D&uplicate", self.duplicate, "Ctrl+D", "Duplicate the selected nodes",
                               canvas=True)
        self.act_delete = a("&Delete", self.delete_selection, [K.Delete, "Backspace"],
                            "Delete the selected nodes and their wires", "delete", canvas=True)
        self.act_select_all = a("Select &All", self.select_all, K.SelectAll, "Select every node", canvas=True)

        self.act_zoom_in = a("Zoom &In", lambda: self.view.zoom_step(1.25), [K.ZoomIn, "Ctrl+="],
                             "Zoom in on the canvas", "zoom-in")
        self.act_zoom_out = a("Zoom &Out", lambda: self.view.zoom_step(0.8), K.ZoomOut, "Zoom out",
                              "zoom-out")
        self.act_fit = a("&Fit All", self.view.fit_all, "F", "Fit every node in the view", "fit", canvas=True)
        self.act_wire_grads = a("Show &Gradient on Wires", self._set_wire_grads, None,
                                "Label each wire with the gradient flowing back along it", "wire-grads",
                                checkable=True)
        self.act_wire_grads.setChecked(True)

        self.act_layout = a("Auto-&Layout", self.view.auto_layout, "L",
                            "Arrange the nodes left to right by dependency (one undo step)", "layout",
                            canvas=True)
        self.act_set_output = a("Pin Selected as &Output", self.set_selected_as_output, "Ctrl+Shift+O",
                                "Backward starts from the selected node, and it stays the output as the "
                                "graph grows (or click the tag above a node)", "output")
        self.act_follow_output = a("Output &Follows the Graph", self.follow_output, "Ctrl+Alt+O",
                                   "Unpin the output: it becomes the node nothing consumes that depends "
                                   "on the most others, and moves as the graph grows")
        self.act_evaluate = a("&Evaluate", self.evaluate, "F5", "Run forward and backward again", "evaluate")
        self.act_group = a("&Group Selection…", self.group_selection, "Ctrl+G",
                           "Make the selected nodes one instance of a new definition (a function): "
                           "every wire crossing the selection's edge becomes a port (one undo step)",
                           canvas=True)
        self.act_ungroup = a("&Ungroup", self.ungroup_selection, "Ctrl+Shift+G",
                             "Put the selected instance's body back in its place, wired, named and "
                             "placed as before (one undo step)", canvas=True)
        self.act_about = a("&About gradcanvas", self.show_about, None, "What gradcanvas is")
        self.act_about.setMenuRole(QAction.AboutRole)
        self.act_shortcuts = a("&Keyboard Shortcuts", self.show_shortcuts, K.HelpContents,
                               "Every shortcut and canvas gesture")

    def _make_menus(self):
        mb = self.menuBar()
        self.menus: dict[str, QMenu] = {}  # by role: file, edit, view, graph, learn, help
        m = mb.addMenu("&File")
        self.menus["file"] = m
        m.addActions([self.act_new, self.act_open])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.setToolTipsVisible(True)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.examples_menu = m.addMenu("E&xamples")
        self.examples_menu.setToolTipsVisible(True)
        self._fill_examples_menu()
        self._fill_recent_menu()
        m.addSeparator()
        m.addActions([self.act_save, self.act_save_as])
        m.addSeparator()
        m.addActions([self.act_export_png, self.act_export_svg])
        m.addSeparator()
        m.addAction(self.act_quit)

        m = mb.addMenu("&Edit")
        self.menus["edit"] = m
        m.addActions([self.act_undo, self.act_redo])
        m.addSeparator()
        m.addActions([self.act_cut, self.act_copy, self.act_paste, self.act_duplicate, self.act_delete])
        m.addSeparator()
        m.addAction(self.act_select_all)

        m = mb.addMenu("&View")
        self.menus["view"] = m
        m.addActions([self.act_zoom_in, self.act_zoom_out, self.act_fit])
        m.addSeparator()
        m.addAction(self.act_wire_grads)
        m.addSeparator()
        for dock, tip in ((self.palette, "Show or hide the palette of ops"),
                          (self.inspector, "Show or hide the inspector"),
                          (self.history, "Show or hide the list of edits (click one to go back to it)"),
                          (self.overview, "Show or hide the overview of the whole document")):
            t = dock.toggleViewAction()
            t.setStatusTip(tip)
            t.setToolTip(tip)
            m.addAction(t)
        self.act_toggle_palette = self.palette.toggleViewAction()
        self.act_toggle_inspector = self.inspector.toggleViewAction()
        self.act_toggle_history = self.history.toggleViewAction()
        self.act_toggle_palette.setShortcut(QKeySequence("Ctrl+1"))
        self.act_toggle_inspector.setShortcut(QKeySequence("Ctrl+2"))
        self.act_toggle_history.setShortcut(QKeySequence("Ctrl+3"))

        m = mb.addMenu("&Graph")
        m.addActions([self.act_layout, self.act_set_output, self.act_follow_output, self.act_evaluate])
        m.addSeparator()
        m.addActions([self.act_group, self.act_ungroup])
        m.setToolTipsVisible(True)
        self.menus["graph"] = m

        self.learn_menu = mb.addMenu("&Learn")  # filled by add_learn_action; hidden while empty
        self.learn_menu.menuAction().setVisible(False)
        self.menus["learn"] = self.learn_menu

        m = mb.addMenu("&Help")
        m.addActions([self.act_shortcuts, self.act_about])
        self.menus["help"] = m
        for menu in mb.findChildren(type(m)):
            menu.setToolTipsVisible(True)

    def _make_toolbar(self):
        tb = QToolBar("Toolbar", self)
        tb.setObjectName("mainToolbar")
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonIconOnly)
        tb.addActions([self.act_new, self.act_open, self.act_save])
        tb.addSeparator()
        tb.addActions([self.act_undo, self.act_redo])
        tb.addSeparator()
        tb.addActions([self.act_zoom_in, self.act_zoom_out, self.act_fit, self.act_layout])
        tb.addSeparator()
        tb.addActions([self.act_set_output, self.act_evaluate, self.act_wire_grads])
        self.addToolBar(Qt.TopToolBarArea, tb)
        self.toolbar = tb
        show_overflow(tb)

    def _make_status_bar(self):
        sb = self.statusBar()
        self.output_label = QLabel()
        self.output_label.setObjectName("outputLabel")
        self.output_label.setToolTip("The output backward starts from, its value, and the document's size")
        sb.addPermanentWidget(self.output_label)
        sb.showMessage("Drag an op from the palette, or double-click a node's value to change it", 8000)

    # ------------------------------------------------------------------ extension points

    def add_learn_action(self, action: QAction, *, new_section: bool = False) -> None:
        """Put a Learn tool's action in the Learn menu (after a separator with
        ``new_section``); its shortcut works even while the menu bar is hidden."""
        m = self.learn_menu
        if new_section and m.actions():
            m.addSeparator()
        m.addAction(action)
        m.menuAction().setVisible(True)
        if action.shortcuts():
            self.addAction(action)

    def add_menu_item(self, menu: str, item, *, after: QAction | None = None, first: bool = False) -> None:
        """Add an action or a submenu to one of :attr:`menus` ("file", "edit", "view",
        "graph", "learn", "help"): right after ``after``, first with ``first``, else at the end."""
        m = self.menus[menu]
        acts = m.actions()
        before = None
        if first and acts:
            before = acts[0]
        elif after is not None and after in acts:
            i = acts.index(after)
            before = acts[i + 1] if i + 1 < len(acts) else None
        if isinstance(item, QMenu):
            if before is None:
                m.addMenu(item)
            else:
                m.insertMenu(before, item)
        elif before is None:
            m.addAction(item)
        else:
            m.insertAction(before, item)
        if isinstance(item, QAction) and item.shortcuts():
            self.addAction(item)

    def add_dock(
        self,
        dock: QDockWidget,
        *,
        below: QDockWidget | None = None,
        tab_with: QDockWidget | None = None,
        visible: bool = True,
    ) -> None:
        """Register a dock: on the right, stacked under ``below`` (the inspector, say), or as
        a tab beside ``tab_with`` (a third slice of the right column would squeeze the others)."""
        if tab_with is not None and self.dockWidgetArea(tab_with) != Qt.DockWidgetArea.NoDockWidgetArea:
            self.addDockWidget(self.dockWidgetArea(tab_with), dock)
            self.tabifyDockWidget(tab_with, dock)
        elif below is not None and self.dockWidgetArea(below) != Qt.DockWidgetArea.NoDockWidgetArea:
            self.addDockWidget(self.dockWidgetArea(below), dock)
            self.splitDockWidget(below, dock, Qt.Orientation.Vertical)
        else:
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.setVisible(visible)

    def add_toolbar(self, toolbar: QToolBar) -> None:
        """Add a toolbar on a row of its own under the main one."""
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        show_overflow(toolbar)

    # ------------------------------------------------------------------ status and title

    def show_message(self, text: str, timeout: int = 8000):
        """Put a sentence in the status bar (refusals, hints). It lasts until its timeout or
        the next edit or undo, whichever comes first: a message never outlives its cause."""
        self._message_at = self.undo_stack.index()
        sb = self.statusBar()
        shown = self._fit_status(text)
        # Cut short to the room left beside the permanent labels (at 800x600 a step's
        # explanation ran off the edge): the whole sentence is the status bar's tooltip.
        sb.setToolTip(text if shown != text else "")
        sb.showMessage(shown, timeout)
        self._status_text = (text, shown)

    def refit_status(self) -> None:
        """Cut the message shown again to its room (a permanent label appeared beside it)."""
        text, shown = getattr(self, "_status_text", ("", ""))
        sb = self.statusBar()
        if text and sb.currentMessage() == shown:
            again = self._fit_status(text)
            if again != shown:
                sb.setToolTip(text if again != text else "")
                sb.showMessage(again, 8000)
                self._status_text = (text, again)

    def _fit_status(self, text: str) -> str:
        sb = self.statusBar()
        room = sb.width() - 24
        for w in sb.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if w.isVisible() and not w.isWindow() and w.x() > sb.width() // 3:
                room -= w.width() + 6  # the permanent labels on the right
        if room < 80 or sb.fontMetrics().horizontalAdvance(text) <= room:
            return text
        return sb.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, room)

    def _on_history_moved(self, *_):
        # Deferred: a message the edit itself says (after its push) is the current one.
        QTimer.singleShot(0, self._drop_stale_message)

    def _drop_stale_message(self):
        sb = self.statusBar()
        if getattr(self, "_message_at", None) != self.undo_stack.index() and sb.currentMessage():
            sb.clearMessage()

    def _title_name(self) -> str:
        return self.session.title_name()

    def _update_title(self, *_):
        star = "*" if self.is_modified() else ""
        self.setWindowTitle(f"{self._title_name()}{star} — {APP_NAME}")

    def _update_output_label(self, *_):
        g = self.document
        out = g.evaluated_output()
        nodes, wires = len(g), g.nx.number_of_edges()
        pinned = g.pinned_output is not None
        self.act_follow_output.setEnabled(pinned)
        if out is None:
            head = "no output"
        else:
            how = "pinned" if pinned and out == g.pinned_output else "automatic"
            head = f"output {g.label(out)} = {style.format_number(g.value(out))} ({how})"
        note = g.seed_note() if out is not None else None
        if note:  # an array output: backward starts from ones, and the status bar says so
            head += " (seeded with ones)"
        self.output_label.setText(f"{head}   ·   {nodes} nodes, {wires} wires")
        tip = ("The output backward starts from, its value, and the document's size.\n"
               + ("Pinned: it stays the output whatever you add (Graph ▸ Output Follows the Graph, or a "
                  "click on its tag, unpins it)." if pinned else
                  "Automatic: the node nothing consumes that depends on the most others; it follows the "
                  "graph as it grows. Click the tag above a node to pin the output there."))
        if note:
            tip += "\n" + note
        if nodes > ROUTE_LIMIT:  # say so rather than let a wire under a node go unexplained
            tip += (f"\nAbove {ROUTE_LIMIT:,} nodes wires are drawn as plain curves (routing them round "
                    "every node would make opening and dragging too slow), so a wire may pass under a node.")
        self.output_label.setToolTip(tip)

    def _update_selection_actions(self):
        if not (isValid(self) and isValid(self.scene)):
            return  # teardown: the scene emits selectionChanged while it is destroyed
        ids = self.scene.selected_node_ids()
        for act in (self.act_cut, self.act_copy, self.act_duplicate, self.act_delete):
            act.setEnabled(bool(ids))
        self.act_set_output.setEnabled(len(ids) == 1)

    # ------------------------------------------------------------------ canvas commands

    def view_centre(self) -> QPointF:
        """The scene point at the centre of the visible canvas."""
        return self.view.mapToScene(self.view.viewport().rect().center())

    def add_at_view_centre(self, op: str) -> int | None:
        """Add ``op`` centred in the view (palette double-click); nudged off an occupied spot."""
        c = self.view_centre()
        x, y = self.scene.free_spot(c.x() - style.NODE_W / 2, c.y() - style.NODE_H / 2)
        node = self.controller.add_node(op, (x, y))
        if node is not None:
            self.scene.select_nodes([node])
            if self.palette.list.hasFocus():  # double-clicked: canvas keys now act on the new node
                self.view.setFocus(Qt.FocusReason.OtherFocusReason)
            self.show_message(self._added_hint(op), 5000)
        return node

    @staticmethod
    def _added_hint(op: str) -> str:
        # A number has no inputs: telling the user to wire them sent them looking for ports.
        if op == NUMBER:
            return "Added a number: double-click it to type a value, drag from its output port to use it"
        if op.startswith("call:"):
            return f"Added an instance of {op[5:]}: wire its inputs; Tab or a double-click enters it"
        return f"Added {op}: wire its inputs by dragging from an output port"

    def selected(self) -> list[int]:
        return self.scene.selected_node_ids()

    def copy(self) -> bool:
        """Copy the selected nodes and the wires among them (the canvas owns the clipboard format)."""
        ok = self.view.copy_selected()
        if ok:
            n = len(self.selected())
            self.show_message(f"Copied {n} node{'s' if n != 1 else ''}", 3000)
        return ok

    def cut(self) -> bool:
        n = len(self.selected())
        ok = bool(self.view.cut_selected())
        if ok:
            self.show_message(f"Cut {n} node{'s' if n != 1 else ''}", 3000)
        return ok

    def paste(self) -> list[int]:
        new = self.view.paste() or []
        if new:
            self.show_message(f"Pasted {len(new)} node{'s' if len(new) != 1 else ''}", 3000)
        return new

    def duplicate(self) -> list[int]:
        return self.view.duplicate_selected() or []

    def delete_selection(self) -> bool:
        return bool(self.view.delete_selected())

    def select_all(self):
        self.view.select_all()

    def set_selected_as_output(self) -> bool:
        """Pin the selected node as the output (one undo step)."""
        ids = self.selected()
        if len(ids) != 1:
            self.show_message("Select exactly one node to make it the output", 4000)
            return False
        return bool(self.controller.set_output(ids[0]))

    def group_selection(self) -> int | None:
        """Group the selected nodes into one instance (Ctrl+G), named as :meth:`ask_group_name`
        answers; returns the instance, or None (nothing selected, cancelled, or refused: the
        status bar says why)."""
        ids = self.selected()
        if not ids:
            self.show_message("Select the nodes to group first: Ctrl+G makes them one function", 5000)
            return None
        name = self.ask_group_name(self.controller.free_definition_name())
        if name is None:
            return None
        inst = self.controller.group(ids, name)
        if inst is not None:
            self.scene.select_nodes([inst])
            self.show_message(f"Grouped {len(ids)} nodes into {self.document.definition_of(inst).name}: "
                              "Ctrl+Shift+G ungroups, Ctrl+Z undoes", 6000)
        return inst

    def rename_definition(self, name: str) -> bool:
        """Ask a new name for definition ``name`` (:meth:`ask_group_name`) and rename it."""
        new = self.ask_group_name(name)
        return new is not None and self.controller.rename_definition(name, new)

    def ungroup_selection(self) -> list[int]:
        """Put the selected instances' bodies back (Ctrl+Shift+G); returns the nodes put back."""
        new = self.controller.ungroup(self.selected())
        if new:
            self.scene.select_nodes(new)
        return new

    def enter_instance(self, path) -> bool:
        """Show the inside of the instance at ``path`` with its live numbers (Tab or a
        double-click on it); Tab, Escape or a breadcrumb leaves."""
        return self.canvas_area.enter(path)

    def leave_instance(self) -> None:
        self.canvas_area.leave()

    def _say_where(self) -> None:
        area = self.canvas_area
        if area.path:
            self.show_message(f"Inside {SEP.join(area.crumb_texts()[1:])}: this instance's values and "
                              "gradients. Tab or Escape leaves.", 6000)

    def follow_output(self) -> bool:
        """Unpin the output: it follows the graph again (one undo step)."""
        if self.document.pinned_output is None:
            self.show_message("The output already follows the graph", 4000)
            return False
        return bool(self.controller.unpin_output())

    def evaluate(self):
        """Run forward and backward again and report the output in the status bar."""
        self.controller.refresh()
        g = self.document
        out = g.evaluated_output()
        if out is None:
            self.show_message("Evaluated. No output: the document is empty")
        else:
            self.show_message(f"Evaluated: {g.label(out)} = {style.format_number(g.value(out))}", 5000)

    def _say_wire_labels_limited(self):
        if self.scene.wire_labels_limited:
            self.show_message(
                f"Gradient on wires is drawn for documents up to {WIRE_LABEL_LIMIT:,} nodes; this one has "
                f"{len(self.document):,}: select a node to read what flows back to it in the inspector",
                15000,
            )

    def _set_wire_grads(self, on: bool):
        self.scene.set_show_wire_grads(bool(on))
        self._say_wire_labels_limited()
        if self._use_settings:
            files.settings().setValue("view/wireGradients", bool(on))

    # ------------------------------------------------------------------ dialogs (replaceable in tests)

    def ask_group_name(self, default: str) -> str | None:
        """Ask the new definition's name (``default`` offered); None when cancelled."""
        name, ok = QInputDialog.getText(self, "Group Selection", "Name of the new function (definition):",
                                        text=default)
        return name if ok else None

    def ask_unsaved(self) -> QMessageBox.StandardButton:
        """Ask whether to save changes; returns Save, Discard or Cancel."""
        box = QMessageBox(QMessageBox.Warning, APP_NAME,
                          f"Save the changes to {self._title_name()}?",
                          QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, self)
        box.setInformativeText("Your edits are lost if you don't save them.")
        box.setDefaultButton(QMessageBox.Save)
        return QMessageBox.StandardButton(box.exec())

    def show_error(self, title: str, text: str) -> None:
        """Tell the user something failed (a file that cannot be read or written)."""
        self.last_error = text
        QMessageBox.warning(self, title, text)

    def ask_restore(self, found: Recovery) -> bool:
        """Offer a recovery copy left by a session that did not end normally; True: restore."""
        box = QMessageBox(QMessageBox.Question, APP_NAME,
                          f"gradcanvas did not close normally. Restore the unsaved changes to {found.name}?",
                          QMessageBox.NoButton, self)
        box.setInformativeText(f"The recovered document has {found.nodes} nodes. If you discard it, "
                               "it is deleted.")
        restore = box.addButton("Restore", QMessageBox.AcceptRole)
        box.addButton("Discard", QMessageBox.DestructiveRole)
        box.setDefaultButton(restore)
        box.exec()
        return box.clickedButton() is restore

    def ask_open_path(self) -> str | None:
        start = str(self.session.last_folder())
        path, _ = QFileDialog.getOpenFileName(self, "Open document", start, files.DOCUMENT_FILTER)
        return path or None

    def ask_save_path(self) -> str | None:
        start = str(self.session.suggested_save_path())
        path, _ = QFileDialog.getSaveFileName(self, "Save document", start, files.DOCUMENT_FILTER)
        if path and not Path(path).suffix:
            path += ".json"
        return path or None

    def ask_export_path(self, suffix: str) -> str | None:
        stem = self.path.stem if self.path else "canvas"
        base = self.session.last_folder()
        kind = "PNG pictures (*.png)" if suffix == ".png" else "SVG drawings (*.svg)"
        title = f"Export {suffix[1:].upper()}"
        path, _ = QFileDialog.getSaveFileName(self, title, str(base / (stem + suffix)), kind)
        if path and Path(path).suffix.lower() != suffix:
            path += suffix
        return path or None

    # ------------------------------------------------------------------ files

    def maybe_save(self) -> bool:
        """True when it is fine to replace or close the document: it is unmodified, or the user
        saved it, or chose to discard the changes. False when the user cancelled (or the save
        failed)."""
        if not self.is_modified():
            return True
        answer = self.ask_unsaved()
        if answer == QMessageBox.Save:
            return self.save_file()
        return answer == QMessageBox.Discard

    def replace_document(self, graph: Graph, path: Path | None = None, name: str = "Untitled") -> None:
        """Show ``graph`` (a copy of it) instead of the open document, without asking about
        unsaved changes (see :meth:`maybe_save`): the undo history is cleared, every view
        and tool follows, the view fits the new document. ``path``/``name`` are for the title."""
        self.controller.set_document(graph.copy())
        self.undo_stack.setClean()
        self.session.set_document(path, name)
        self._update_output_label()
        self.view.show_document_readably()

    def new_document(self) -> bool:
        """Replace the document with an empty one (asks about unsaved changes first)."""
        if not self.maybe_save():
            return False
        self.replace_document(Graph(), None, "Untitled")
        self.show_message("New document: drag ops from the palette onto the canvas", 6000)
        return True

    def _load_to_replace(self, p: Path, title: str) -> Graph | None:
        """The document at ``p``, loaded before anything is asked or replaced (a file that
        cannot be loaded is reported with the engine's message), once the user agreed to
        leave the open one (see :meth:`maybe_save`); None otherwise."""
        try:
            graph = files.load_document(p)
        except DocumentError as e:
            self.show_error(title, f"{p.name}: {e}")
            return None
        return graph if self.maybe_save() else None

    def open_file(self, path) -> bool:
        """Open a document. A file that cannot be loaded is reported in a dialog with the
        engine's message and the open document stays as it was."""
        p = Path(path)
        graph = self._load_to_replace(p, "Cannot open document")
        if graph is None:
            return False
        self.replace_document(graph, p.resolve(), p.name)
        self._remember(p)
        self.show_message(f"Opened {p}", 5000)
        return True

    def open_example(self, path) -> bool:
        """Open a bundled example as an untitled copy (Save asks where to put it)."""
        p = Path(path)
        graph = self._load_to_replace(p, "Cannot open example")
        if graph is None:
            return False
        self.replace_document(graph, None, f"{p.name} (example)")
        title = graph.meta.get("title") or p.stem
        self.show_message(f"Example: {title}. Click a node to see where its gradient comes from.", 8000)
        if self.training is not None:  # a training example opens with the Train dock ready
            self.training.example_opened(files.example_training(p))
        return True

    def save_file(self, path=None) -> bool:
        """Save to ``path``, or to the current file, or ask where. Atomic; marks the document clean."""
        if path is None:
            path = self.path or self.ask_save_path()
            if not path:
                return False
        p = Path(path)
        try:
            self.document.save(p)
        except DocumentError as e:
            self.show_error("Cannot save document", str(e))
            return False
        except OSError as e:  # the engine reports write failures as DocumentError; be safe anyway
            self.show_error("Cannot save document", f"{p}: {e.strerror or e}")
            return False
        self.session.saved_as(p)
        self._fill_recent_menu()
        self.show_message(f"Saved {p}", 5000)
        return True

    def export_picture(self, path) -> bool:
        """Write the annotated canvas to a .png or .svg file, within the picture budget and
        atomically (a failure leaves the old file); a refusal is explained in a message box."""
        from gui.canvas.render import SCALE, PictureTooLarge, check_format, picture_scale, render_scene

        try:
            nominal = SCALE if check_format(path) == ".png" else 1.0
            scale = picture_scale(self.scene, nominal)
            render_scene(self.scene, path)
        except PictureTooLarge as e:
            self.show_error("Cannot export", f"{e}: move the far-out nodes nearer or lay the document "
                                             "out (Graph ▸ Auto-Layout, L)")  # fmt: skip
            return False
        except (ValueError, OSError) as e:
            self.show_error("Cannot export", str(e))
            return False
        except MemoryError:
            self.show_error("Cannot export", "not enough memory for the picture")
            return False
        shrunk = f" (drawn at {scale / nominal:.0%} to fit the picture budget)" if scale < nominal else ""
        self.show_message(f"Exported {path}{shrunk}", 5000)
        return True

    def _on_open(self):
        path = self.ask_open_path()
        if path:
            self.open_file(path)

    def _on_save(self):
        self.save_file()

    def _on_save_as(self):
        path = self.ask_save_path()
        if path:
            self.save_file(path)

    def _on_export(self, suffix: str):
        path = self.ask_export_path(suffix)
        if path:
            self.export_picture(path)

    def offer_recovery(self) -> bool:
        """If a session ended without saving (a crash, a kill), offer its recovery copy and, if
        the user accepts, show it here as a modified document. Declined copies are deleted.
        True when a document was restored."""
        found = pending_recoveries() if self._use_settings else []
        if not found:
            return False
        newest = found[0]
        if not self.ask_restore(newest):
            newest.discard()
            return False
        try:
            graph = newest.load()
        except DocumentError as e:
            self.show_error("Cannot restore", f"the recovery copy cannot be read: {e}")
            newest.discard()
            return False
        self.controller.set_document(graph)
        self.session.set_document(newest.path, f"{newest.name} (recovered)", modified=True)
        newest.discard()  # this session now keeps its own copy until saved or discarded
        self._update_output_label()
        self.view.show_document_readably()  # like an example: text that reads, not bare chips
        self.show_message(f"Restored {len(graph)} nodes of {newest.name}: save them to keep them", 10000)
        return True

    def _remember(self, path: Path):
        self.session.remember(path)
        self._fill_recent_menu()

    def _fill_recent_menu(self):
        m = self.recent_menu
        m.clear()
        paths = self.session.recent_files()
        for i, p in enumerate(paths):
            label = f"&{i + 1}  {Path(p).name}" if i < 9 else Path(p).name
            act = m.addAction(label)
            act.setToolTip(p)
            act.setStatusTip(p)
            act.setData(p)
            act.triggered.connect(lambda _=False, p=p: self.open_file(p))
        if not paths:
            none = m.addAction("No recent files")
            none.setEnabled(False)
        else:
            m.addSeparator()
            clear = m.addAction("Clear Recent Files")
            clear.setStatusTip("Forget the list of recent files")
            clear.triggered.connect(self._clear_recent)

    def _clear_recent(self):
        self.session.clear_recent_files()
        self._fill_recent_menu()

    def recent_actions(self) -> list[QAction]:
        """The Open Recent entries (for tests and the menu)."""
        return [a for a in self.recent_menu.actions() if a.data()]

    def _fill_examples_menu(self):
        m = self.examples_menu
        m.clear()
        for title, path in files.examples():
            act = m.addAction(title)
            act.setData(str(path))
            act.setToolTip(f"{title} ({path.name})")
            act.setStatusTip(f"Open the example {path.name}")
            act.triggered.connect(lambda _=False, p=path: self.open_example(p))
        if m.isEmpty():
            none = m.addAction("No examples installed")
            none.setEnabled(False)

    def example_actions(self) -> list[QAction]:
        return [a for a in self.examples_menu.actions() if a.data()]

    # ------------------------------------------------------------------ help

    def show_about(self):
        QMessageBox.about(
            self,
            "About gradcanvas",
            f"<h3>gradcanvas {about_version()}</h3>"
            "<p>See automatic differentiation happen. Number and operator nodes on a canvas; every "
            "edit runs forward and reverse-mode backward, and each node shows its value "
            f"(<span style='color:{style.VALUE.name()}'>green</span>) and gradient "
            f"(<span style='color:{style.GRAD.name()}'>red</span>).</p>"
            "<p>Where a value is used twice, its gradient is the sum of what each use sends back: "
            "select a node and the inspector writes the sum out.</p>",
        )

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(action, keys) for every action with a shortcut, then the canvas gestures."""
        rows = []
        for act in self.findChildren(QAction):
            keys = ", ".join(k.toString(QKeySequence.NativeText) for k in act.shortcuts())
            text = act.text().replace("&", "").rstrip("…")
            if keys and text:
                rows.append((text, keys))
        rows.sort()
        return rows + _GESTURES

    def show_shortcuts(self):
        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard shortcuts")
        lay = QVBoxLayout(dlg)
        text = QTextBrowser(dlg)
        rows = self.shortcut_rows()
        body = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in rows)
        text.setHtml(f"<table cellpadding='3'>{body}</table>")
        lay.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, dlg)
        buttons.rejected.connect(dlg.reject)
        lay.addWidget(buttons)
        resize_to_screen(dlg, 560, 520)
        dlg.exec()

    # ------------------------------------------------------------------ window state

    def _default_size(self) -> QSize:
        """1280x800, or less on a smaller screen (nine tenths of the free space)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return DEFAULT_SIZE
        free = screen.availableGeometry().size()
        if free.width() >= DEFAULT_SIZE.width() and free.height() >= DEFAULT_SIZE.height():
            return DEFAULT_SIZE
        return DEFAULT_SIZE.boundedTo(QSize(int(free.width() * 0.9), int(free.height() * 0.9)))

    def _restore_settings(self):
        if not self._use_settings:
            return
        s = files.settings()
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        wire = s.value("view/wireGradients", True)
        on = wire if isinstance(wire, bool) else str(wire).lower() != "false"
        self.act_wire_grads.setChecked(on)

    def _save_settings(self):
        if not self._use_settings:
            return
        s = files.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.sync()

    def showEvent(self, event):  # noqa: N802 - Qt's virtual
        super().showEvent(event)
        if not self._fitted_once:
            self._fitted_once = True
            self._share_width()
            QTimer.singleShot(0, self.view.show_document_readably)

    def resizeEvent(self, event):  # noqa: N802 - Qt's virtual
        super().resizeEvent(event)
        if self._fitted_once and event.size().width() != event.oldSize().width():
            self._fit_timer.start()  # once the resize settles: a drag sends dozens

    def _dock_columns(self) -> dict:
        """The docks that take width beside the canvas, per side: visible, docked (not
        floating), the current tab of a tab group only."""
        columns: dict = {}
        for dock in self.findChildren(QDockWidget):
            if dock.isVisible() and not dock.isFloating():
                area = self.dockWidgetArea(dock)
                if area in (Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea):
                    columns.setdefault(area, []).append(dock)
        return columns

    def _share_width(self):
        """Keep the canvas at least CANVAS_SHARE of the window's width, whatever size the
        window is made: the docks kept their widths as a window shrank (at 900x600 the canvas
        got a third, at 600x400 about 50 px). The side columns shrink in proportion; below
        NARROW_WINDOW the palette becomes a tab behind the inspector (one column instead of
        two; it goes back to the left when the window is widened again). A user's own
        layout is left alone while the canvas has its share."""
        w = self.width()
        palette_docked = self.palette.isVisible() and not self.palette.isFloating()
        if (
            self._palette_tabbed
            and w >= NARROW_WINDOW
            and self.palette in self.tabifiedDockWidgets(self.inspector)
        ):
            self._palette_tabbed = False
            self.addDockWidget(Qt.LeftDockWidgetArea, self.palette)  # out of the tab group
            self.palette.show()
        elif (
            w < NARROW_WINDOW
            and palette_docked
            and self.inspector.isVisible()
            and not self.inspector.isFloating()
            and self.dockWidgetArea(self.palette) != self.dockWidgetArea(self.inspector)
        ):
            self.tabifyDockWidget(self.inspector, self.palette)
            self.inspector.raise_()
            self._palette_tabbed = True
        columns = self._dock_columns()
        if not columns:
            return
        room = int(w * (1 - CANVAS_SHARE)) - DOCK_SEPARATORS * len(columns)
        widths = {area: max(d.width() for d in docks) for area, docks in columns.items()}
        targets = dict(widths)
        if w < SMALL_WINDOW:  # narrower than their defaults, as an 800x600 screen needs
            if len(columns) == 1:
                small = {a: max(220, int(w * 0.3)) for a in columns}
            else:
                small = {Qt.LeftDockWidgetArea: max(140, int(w * 0.2)),
                         Qt.RightDockWidgetArea: max(200, int(w * 0.28))}
            targets = {a: min(widths[a], small.get(a, widths[a])) for a in columns}
        total = sum(targets.values())
        if total > room:
            targets = {a: max(MIN_DOCK_WIDTH, int(t * room / total)) for a, t in targets.items()}
        if targets != widths:
            self.resizeDocks([docks[0] for docks in columns.values()], list(targets.values()), Qt.Horizontal)

    def _make_room_for_document(self, width: int) -> None:
        """A document opening needs a ``width``-px canvas to be seen whole at a readable zoom:
        when the palette's column is what it lacks, the palette becomes a tab behind the
        inspector (one click brings it back). The perceptron at 1600x1000 and micrograd's
        sanity graph in gui.show's 1280x800 window opened with their inputs off screen."""
        p, i = self.palette, self.inspector
        if not (p.isVisible() and i.isVisible()) or p.isFloating() or i.isFloating():
            return
        if self.dockWidgetArea(p) == self.dockWidgetArea(i) or p in self.tabifiedDockWidgets(i):
            return
        if self.view.viewport().width() + p.width() + DOCK_SEPARATORS < width:
            return  # even then it would not fit: keep the palette
        self.tabifyDockWidget(i, p)
        i.raise_()
        self.show_message("The palette is a tab behind the inspector, so the whole document fits", 6000)

    def closeEvent(self, event):  # noqa: N802 - Qt's virtual
        if not self.maybe_save():
            event.ignore()
            return
        self._save_settings()
        self.session.close()
        event.accept()
