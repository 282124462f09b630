import type { RegisterCommand } from '../context.ts';
import { notYet } from '../../errors.ts';

export const registerPrepareCamvid: RegisterCommand = (program) => {
  program
    .command('prepare-camvid')
    .description('convert the SegNet CamVid folder to the prepared format')
    .allowUnknownOption(false)
    .action(() => notYet('prepare-camvid', 'issue #3'));
};
