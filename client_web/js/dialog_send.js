// Sending a confirmation dialog's request (change my password, delete my account): its
// buttons are disabled while the request is on its way, so a second click cannot send it
// twice or close the dialog under it, and enabled again however the request ends.

/** `send()`'s answer; a refusal is thrown to the caller with the buttons enabled again. */
export async function sendFromDialog({ confirm, cancel, error }, send) {
  confirm.disabled = true;
  cancel.disabled = true;
  error.textContent = '';
  try {
    return await send();
  } finally {
    confirm.disabled = false;
    cancel.disabled = false;
  }
}
