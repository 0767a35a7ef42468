// Placeholder: the page is being built.
import type { PageProps } from '../routes';
import { PageHead } from '../widgets';

export default function Checks(_p: PageProps) {
  return <PageHead title="Checks" />;
}
