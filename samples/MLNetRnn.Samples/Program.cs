// Placeholder entry point until the samples land; replaced by the adding-problem sample.
return 0;
