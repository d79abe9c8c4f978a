/**
 * The message with MSH-8 (security) replaced by `********`, for logging HL7 bodies when
 * `log.phi` is on: patient data may then be logged, credentials never.
 */
export function maskSecurityField(message: string): string {
  if (!message.startsWith('MSH')) return message;
  const separator = message[3]!;
  const end = message.indexOf('\r');
  const header = end === -1 ? message : message.slice(0, end);
  const fields = header.split(separator);
  // fields[7] is MSH-8 (fields[0] = "MSH", fields[1] = MSH-2 since MSH-1 is the separator).
  if (!fields[7]) return message;
  fields[7] = '********';
  return fields.join(separator) + (end === -1 ? '' : message.slice(end));
}
