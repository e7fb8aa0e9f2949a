// What each upload accepts, as the API says (GET /api/v1/uploads/formats): file dialogs offer
// only these files, and a file picked anyway (with "All files") is refused before it is sent.
// The server still checks what each file really is; this only spares a long upload for nothing.

// The `accept` attribute of a file input: extensions first (what file dialogs filter on best),
// then content types.
export function acceptAttribute(format) {
  return [...format.extensions, ...format.content_types].join(",");
}

// Why `file` cannot be sent as this kind of upload, in words, or null when it can.
export function fileProblem(file, format, what) {
  if (!file) return null;
  const name = file.name.toLowerCase();
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot) : "";
  const known = extension ? format.extensions.includes(extension) : format.content_types.includes(file.type);
  if (!known) {
    const kind = extension ? `${extension.slice(1).toUpperCase()} files` : "This file";
    return `${kind} cannot be used as ${what}. Accepted: ${format.description}`;
  }
  if (format.max_bytes && file.size > format.max_bytes) {
    return `${file.name} is too large for ${what}: at most ${Math.floor(format.max_bytes / 1024 ** 2)} MB.`;
  }
  return null;
}
