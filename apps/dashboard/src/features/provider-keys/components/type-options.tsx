import { useTranslation } from 'react-i18next';
import { groupByCategory, type ProviderKeyType } from '../api';

/** The label of a category ("ai" → "AI"), falling back to its id for one this dashboard does not know. */
export function useCategoryLabel() {
  const { t } = useTranslation();
  return (category: string) => t(`providerKeys.categories.${category}`, { defaultValue: category });
}

/** The credential types as <option>s, one <optgroup> per category. */
export function TypeOptions({ types }: { types: ProviderKeyType[] }) {
  const categoryLabel = useCategoryLabel();
  return (
    <>
      {groupByCategory(types).map((group) => (
        <optgroup key={group.category} label={categoryLabel(group.category)}>
          {group.types.map((type) => (
            <option key={type.id} value={type.id}>
              {type.label}
            </option>
          ))}
        </optgroup>
      ))}
    </>
  );
}
