// MiniDebugInfo: the `.gnu_debugdata` section that Fedora and RHEL add to stripped
// binaries, an xz-compressed ELF image holding a `.symtab` of the functions stripping
// removed (the static ones; the exported ones stay in .dynsym). Decompressed with
// xz-decompress (xz-embedded compiled to WebAssembly, no native code), which only has an
// asynchronous API: the images are decompressed before the frames are named, and kept
// per build-id (docs/native-unwinding.md §3).
import { ElfFile } from '../proc/elf.js';

const SHT_NOBITS = 8;
const SHT_SYMTAB = 2;
/** a MiniDebugInfo image holds symbols only (a few hundred KB for a libpython): more is not one */
const MAX_IMAGE_BYTES = 64 << 20;

/** The section's name, for notes. */
export const MINI_DEBUGINFO_SECTION = '.gnu_debugdata';

/** Whether elf carries a MiniDebugInfo section. */
export function hasMiniDebugInfo(elf: ElfFile): boolean {
  const s = elf.section(MINI_DEBUGINFO_SECTION);
  return !!s && s.type !== SHT_NOBITS && s.size > 0n;
}

/** The decompressed ELF image of elf's .gnu_debugdata, or undefined when it has none. Rejects when the section is corrupt. */
export async function readMiniDebugInfo(elf: ElfFile): Promise<ElfFile | undefined> {
  if (!hasMiniDebugInfo(elf)) return undefined;
  const s = elf.section(MINI_DEBUGINFO_SECTION)!;
  const image = ElfFile.fromImage(`${elf.path} ${MINI_DEBUGINFO_SECTION}`, await unxz(elf.read(s.offset, Number(s.size))));
  // its symbol tables are read with the module's own: one that runs past the image is
  // refused here, so that it never costs the module the names its other tables give
  for (const t of image.sections) {
    if (t.type !== SHT_SYMTAB) continue;
    const strs = image.sections[t.link];
    if (!strs) throw new Error('its symbol table has no string table');
    if (strs.type === SHT_NOBITS) continue; // skipped when symbols are read
    image.read(t.offset, Number(t.size));
    image.read(strs.offset, Number(strs.size));
  }
  return image;
}

/** Decompresses one .xz stream held in memory. */
async function unxz(data: Buffer): Promise<Buffer> {
  // loaded on first use: most processes have no MiniDebugInfo, and the bundle then never runs it
  const { XzReadableStream } = (await import('xz-decompress')).default;
  const input = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(data.buffer, data.byteOffset, data.length));
      c.close();
    },
  });
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of new XzReadableStream(input)) {
      total += chunk.length;
      if (total > MAX_IMAGE_BYTES) throw new Error(`it decompresses to more than ${MAX_IMAGE_BYTES >> 20} MiB`);
      // the decoder's chunk lives in its WebAssembly memory, which the next one reuses
      chunks.push(Buffer.from(chunk));
    }
  } catch (e) {
    throw new Error(`its xz data cannot be decompressed (${(e as Error).message})`);
  }
  return Buffer.concat(chunks);
}
