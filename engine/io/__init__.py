"""Reading and writing: the document format, the program parser, code export."""
