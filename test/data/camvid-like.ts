import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A small copy of the SegNet CamVid layout: `n` train frames listed in train.txt with the
 * original absolute /SegNet/CamVid paths, and one val frame found by folder scan (no val.txt).
 */
export async function makeCamvidLike(dir: string, camvid: string, n: number): Promise<string> {
  for (const sub of ['train', 'trainannot', 'val', 'valannot']) await mkdir(path.join(dir, sub), { recursive: true });
  const train = (await readdir(path.join(camvid, 'train'))).sort().slice(0, n);
  for (const f of train) {
    await copyFile(path.join(camvid, 'train', f), path.join(dir, 'train', f));
    await copyFile(path.join(camvid, 'trainannot', f), path.join(dir, 'trainannot', f));
  }
  await writeFile(path.join(dir, 'train.txt'), train.map((f) => `/SegNet/CamVid/train/${f} /SegNet/CamVid/trainannot/${f}\n`).join(''));
  const [v] = (await readdir(path.join(camvid, 'val'))).sort();
  await copyFile(path.join(camvid, 'val', v!), path.join(dir, 'val', v!));
  await copyFile(path.join(camvid, 'valannot', v!), path.join(dir, 'valannot', v!));
  return dir;
}
