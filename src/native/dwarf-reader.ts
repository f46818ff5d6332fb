// A cursor over DWARF-encoded bytes: LEB128 numbers and the pointer encodings
// (DW_EH_PE_*) that .eh_frame and .eh_frame_hdr use (docs/native-unwinding.md §2).

export const DW_EH_PE_omit = 0xff;
const DW_EH_PE_pcrel = 0x10;
const DW_EH_PE_datarel = 0x30;
const DW_EH_PE_indirect = 0x80;

export class DwarfCursor {
  readonly buf: Buffer;
  pos: number;
  /** link-time address of buf[0]: what pc-relative pointers are relative to */
  readonly baseAddr: bigint;

  constructor(buf: Buffer, pos = 0, baseAddr = 0n) {
    this.buf = buf;
    this.pos = pos;
    this.baseAddr = baseAddr;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  u8(): number {
    return this.buf[this.pos++];
  }
  u16(): number {
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i8(): number {
    return this.buf.readInt8(this.pos++);
  }
  i16(): number {
    const v = this.buf.readInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * A DWARF unit's initial length: 4 bytes, or 0xffffffff and 8 more in 64-bit DWARF,
   * whose section offsets inside the unit are then 8 bytes wide too.
   */
  initialLength(): { length: number; offsetSize: 4 | 8 } {
    const length = this.u32();
    return length === 0xffffffff ? { length: Number(this.u64()), offsetSize: 8 } : { length, offsetSize: 4 };
  }

  /** An unsigned LEB128 that fits a Number (operands of CFA instructions always do). */
  uleb(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new RangeError('LEB128 runs past the end');
      result += (b & 0x7f) * mul;
      mul *= 128;
      if (!(b & 0x80)) return result;
    }
  }

  sleb(): number {
    let result = 0;
    let mul = 1;
    let b: number;
    do {
      b = this.buf[this.pos++];
      if (b === undefined) throw new RangeError('LEB128 runs past the end');
      result += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    if (b & 0x40) result -= mul;
    return result;
  }

  /** A NUL-terminated string. */
  cstr(): string {
    const end = this.buf.indexOf(0, this.pos);
    const s = this.buf.toString('latin1', this.pos, end < 0 ? this.buf.length : end);
    this.pos = end < 0 ? this.buf.length : end + 1;
    return s;
  }

  /**
   * A pointer in the given DW_EH_PE encoding, as a link-time address. Indirect pointers
   * (only personality routines use them) are returned undereferenced: nothing here needs
   * their target. dataBase is the address of .eh_frame_hdr for datarel pointers.
   */
  encoded(enc: number, dataBase = 0n): bigint {
    if (enc === DW_EH_PE_omit) return 0n;
    const at = this.baseAddr + BigInt(this.pos);
    let v: bigint;
    switch (enc & 0x0f) {
      case 0x00:
        v = this.u64();
        break; // absptr (8 bytes on x86_64)
      case 0x01:
        v = BigInt(this.uleb());
        break;
      case 0x02:
        v = BigInt(this.u16());
        break;
      case 0x03:
        v = BigInt(this.u32());
        break;
      case 0x04:
        v = this.u64();
        break;
      case 0x09:
        v = BigInt(this.sleb());
        break;
      case 0x0a:
        v = BigInt(this.i16());
        break;
      case 0x0b:
        v = BigInt(this.i32());
        break;
      case 0x0c:
        v = this.i64();
        break;
      default:
        throw new RangeError(`unknown pointer encoding 0x${enc.toString(16)}`);
    }
    switch (enc & 0x70 & ~DW_EH_PE_indirect) {
      case 0:
        break;
      case DW_EH_PE_pcrel:
        v += at;
        break;
      case DW_EH_PE_datarel:
        v += dataBase;
        break;
      default:
        break; // textrel/funcrel/aligned: not used on x86_64 Linux
    }
    return BigInt.asUintN(64, v);
  }
}
