// electron-store 8.1.0 `index.test-d.ts`, unchanged but for its import line
// (`import Store = require('.')` -> `import Store = require('tad-store')`).
// No line was removed: every option it uses exists in tad-store.
//
// MIT License
//
// Copyright (c) Sindre Sorhus <sindresorhus@gmail.com> (https://sindresorhus.com)
//
// Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:
//
// The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.
//
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

import {expectType, expectAssignable} from 'tsd';
import Store = require('tad-store');

new Store({defaults: {}}); // eslint-disable-line no-new
new Store({name: 'myConfiguration'}); // eslint-disable-line no-new

const store = new Store();

store.set('foo', 'bar');
store.set({
	foo: 'bar',
	foo2: 'bar2'
});
store.delete('foo');
store.get('foo');
store.get('foo', 42);
store.reset('foo');
store.has('foo');
store.clear();

store.openInEditor();

store.size; // eslint-disable-line @typescript-eslint/no-unused-expressions
store.store; // eslint-disable-line @typescript-eslint/no-unused-expressions

store.store = {
	foo: 'bar'
};

store.path; // eslint-disable-line @typescript-eslint/no-unused-expressions

type Schema<T> = Store.Schema<T>;

type TypedStore = {
	isEnabled: boolean;
	interval: number;
};

const typedStore = new Store<TypedStore>({
	defaults: {
		isEnabled: true,
		interval: 30000
	}
});

expectType<number>(typedStore.get('interval'));

const isEnabled = false;
typedStore.set('isEnabled', isEnabled);
typedStore.set({
	isEnabled: true,
	interval: 10000
});

const offDidChange = typedStore.onDidChange(
	'isEnabled',
	(newValue, oldValue) => {
		expectType<boolean | undefined>(newValue);
		expectType<boolean | undefined>(oldValue);
	}
);

expectAssignable<() => void>(offDidChange);
offDidChange();
