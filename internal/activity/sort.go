package activity

import (
	"cmp"
	"slices"
)

func (in *Instance) sortedUserKeys() []parentKey {
	keys := make([]parentKey, 0, len(in.users))
	for k := range in.users {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b parentKey) int {
		return cmp.Or(cmp.Compare(a.parentType, b.parentType), cmp.Compare(a.parentID, b.parentID), cmp.Compare(a.userType, b.userType))
	})
	return keys
}
