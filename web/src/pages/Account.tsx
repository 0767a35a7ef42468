// Placeholder: the page is being built.
import type { PageProps } from '../routes';
import { PageHead } from '../widgets';

export default function Account(_p: PageProps) {
  return <PageHead title="Account" />;
}
