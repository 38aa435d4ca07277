"""The application shell: the main window, app start-up, files, style, dialogs."""
