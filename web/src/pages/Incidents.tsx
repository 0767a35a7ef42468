// Placeholder: the page is being built.
import type { PageProps } from '../routes';
import { PageHead } from '../widgets';

export default function Incidents(_p: PageProps) {
  return <PageHead title="Incidents" />;
}
