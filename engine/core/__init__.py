"""The core: the op table, arrays, the Graph document model, the compiled tape and Value."""
