// Placeholder: the page is being built.
import type { PageProps } from '../routes';
import { PageHead } from '../widgets';

export default function AdminTokens(_p: PageProps) {
  return <PageHead title="API tokens" />;
}
