/**
 * The headers of a stored (uncompressed) zip, as torch.save writes it (no data descriptors, no zip64), for tests and
 * benches that make `.pt` files: per entry a local header and a central-directory record, and the end record.
 */
import { crc32 } from "node:zlib";

/** Local header (30 bytes + name, `extraLen` bytes of extra field follow it) and central record of one entry at `offset`. */
export function zipEntryHeaders(name: Buffer, data: Uint8Array, offset: number, extraLen = 0): { local: Buffer; central: Buffer } {
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(name.length, 26);
  local.writeUInt16LE(extraLen, 28);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0);
  ch.writeUInt16LE(20, 4);
  ch.writeUInt16LE(20, 6);
  ch.writeUInt32LE(crc, 16);
  ch.writeUInt32LE(data.length, 20);
  ch.writeUInt32LE(data.length, 24);
  ch.writeUInt16LE(name.length, 28);
  ch.writeUInt32LE(offset, 42);
  return { local: Buffer.concat([local, name]), central: Buffer.concat([ch, name]) };
}

/** The end-of-central-directory record for `count` entries whose directory (`size` bytes) starts at `offset`. */
export function zipEnd(count: number, size: number, offset: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return end;
}
